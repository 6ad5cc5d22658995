#pragma once
// Leaves no trace of a test's containerd namespace on the host.
//
// What a test can leave behind, and who removes it here:
//   - tasks (a runc shim and the container's processes)      kill, wait, delete task
//   - containers (records in containerd's database)           delete container
//   - /sys/fs/cgroup/<controller>/<ns>/ (runc removes only the <id> leaf)   rmdir
//   - /run/containerd/runc/<ns>/ (shared by all containerds on the host)  rmdir
// Directories are only ever rmdir'ed, never removed recursively: one that is not empty
// is reported, not emptied.
//
// Threading: any thread; use a Client of its own or a thread-safe one.

#include <chrono>
#include <string_view>

#include "modules/common/result.h"
#include "modules/containerd/client.h"

namespace contd::testing {

// Kills (SIGKILL, all processes), waits for and deletes every task in `ns`, deletes every
// container, then calls removeHostLeftovers(ns). Tries everything even after a failure
// and returns the first error, naming the object.
Status purgeNamespace(containerd::Client& client, std::string_view ns,
                      std::chrono::milliseconds wait_timeout = std::chrono::seconds(10));

// rmdir of /sys/fs/cgroup/*/<ns> and /run/containerd/runc/<ns>, ignoring those that do not
// exist. Errors: kInvalidArgument for a name that is not one path component; kInternal for
// a directory that cannot be removed (e.g. not empty), naming it.
Status removeHostLeftovers(std::string_view ns);

}  // namespace contd::testing
