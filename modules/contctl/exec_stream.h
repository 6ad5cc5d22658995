#pragma once
// `contctl exec [-i] [-t] NS NAME -- CMD...`, like `podman exec`: the command's stdout and
// stderr printed as they come (to contctl's stdout and stderr), contctl's stdin forwarded
// with -i, a terminal with -t (contctl's own terminal in raw mode meanwhile, its window
// size followed), and the command's exit code as contctl's (124 when it timed out).

#include "modules/contctl/args.h"
#include "modules/contctl/client.h"

namespace contd::contctl {

// The command's exit code; 1 (contd's error printed) when the exec could not be started.
int runExecStream(Client& client, const Invocation& inv);

}  // namespace contd::contctl
