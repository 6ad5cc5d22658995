#pragma once
// Cleanup of what a benchmark left in its private containerd and on the host: the normal
// purge of its namespaces through containerd, and, with containerd stopped, a sweep of the
// runc containers, shims and cgroups an interrupted run can orphan.
//
// Threading: plain functions; run them from the thread that cleans up.

#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::bench {

// Removes every task, container, image and lease of each namespace in `namespaces` through
// the containerd at `containerd_socket` (support::purgeNamespace). A failure is printed as
// "<program>: cleanup: purge of '<ns>': ..." and not returned: the sweep after containerd
// stops finishes the job, and removeHostLeftovers says whether anything is left.
void purgeNamespaces(const std::string& containerd_socket,
                     const std::vector<std::string>& namespaces, std::string_view program);

// After an interrupted run (a Ctrl-C in the terminal reaches contd and containerd too, and
// may land in the middle of a task Create) containerd can lose track of a task: its runc
// container and its shim then outlive the purge. Removes what is left of namespace `ns`:
// the runc containers under runc's state root (runc delete --force kills their processes and
// removes their cgroups), then the shims the benchmark's containerd started for `ns`,
// recognised by their command line (`containerd-shim-runc-v2 -namespace <ns> ... -address
// <socket>`; the namespace name is unique to the run) and killed by pid, then the empty
// cgroups runc delete can leave. Run with containerd stopped.
Status sweepOrphans(const std::string& containerd_socket, const std::string& ns,
                    std::string_view program);

// sweepOrphans and then support::removeHostLeftovers for each namespace; the first error.
Status sweepNamespaces(const std::string& containerd_socket,
                       const std::vector<std::string>& namespaces, std::string_view program);

}  // namespace contd::bench
