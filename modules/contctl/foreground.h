#pragma once
// `contctl run --rm` without -d, like `podman run --rm`: runs the container, prints its
// output as it comes (stdout lines to stdout, stderr lines to stderr), waits for its exit
// and returns the container's exit code once auto_remove has removed it.

#include "contd/v1/containers.pb.h"
#include "modules/contctl/args.h"
#include "modules/contctl/client.h"

namespace contd::contctl {

// One log line to stdout or stderr as the container wrote it (with its newline).
void printLogLine(const v1::LogLine& line, bool flush);

// The container's exit code, or 1 (contd's error printed) when Run or Wait failed.
int runInForeground(Client& client, const Invocation& inv);

}  // namespace contd::contctl
