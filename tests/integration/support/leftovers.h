#pragma once
// What containers of a test's containerd namespace left on the host and in containerd, for
// tests that check "nothing left" after Delete (faults, leaks). Each check returns a
// readable list such as " task shim(1234) cgroup(memory)"; empty means nothing is left.
//
// Where contd's containers leave traces (containerd 1.6 with runc shims, cgroupsPath
// /<ns>/<name> from the spec builder):
//   containerd records and tasks            containerd's API, namespace <ns>
//   snapshots                               containerd's snapshotters (overlayfs, native)
//   runc shims                              processes whose command line has -namespace <ns>
//   contd's log drivers                     contd-shim-logs processes with
//                                           CONTAINER_NAMESPACE=<ns> in their environment
//   bundles                                 <containerd state>/io.containerd.runtime.v2.task/<ns>/
//   runc state                              /run/containerd/runc/<ns>/ (shared by containerds)
//   cgroups                                 /sys/fs/cgroup/<ns>/ (v2), /sys/fs/cgroup/*/<ns>/ (v1)
//   mounts                                  /proc/self/mountinfo
//
// Threading: one thread per LeftoverScope (the client's calls are thread-safe, the scope's
// fields are only read).

#include <filesystem>
#include <string>
#include <vector>

#include "modules/containerd/grpc_client.h"

namespace contd::testing {

struct LeftoverScope {
  containerd::GrpcClient* client = nullptr;  // on the test's containerd
  std::filesystem::path containerd_state;    // that containerd's state dir
  std::string ns;                            // the test's containerd namespace
  std::filesystem::path log_shim;            // the built contd-shim-logs
};

// Traces of container `name`: record, task, shim, log driver, bundle, runc state, cgroup.
std::string containerLeftovers(const LeftoverScope& scope, const std::string& name);

// Traces of any container in the namespace: containers, tasks, snapshots, shims, log
// drivers, bundles, runc state, cgroups below the namespace's cgroup, and mount points at or
// below any of `mount_roots` (plus the namespace's bundle dir). A failed containerd call
// is reported as a leftover too (" containers(error: ...)"), so it cannot pass unseen.
std::string namespaceLeftovers(const LeftoverScope& scope,
                               const std::vector<std::filesystem::path>& mount_roots);

// Mount points (from /proc/self/mountinfo) at or below `root`.
std::vector<std::string> mountsUnder(const std::filesystem::path& root);

// Entries of /proc/<pid>/fd, or -1 when it cannot be read.
int openFdCount(pid_t pid);
// VmRSS of /proc/<pid>/status in KiB, or -1 when it cannot be read.
long residentKiB(pid_t pid);
// Threads of /proc/<pid>/status, or -1 when it cannot be read.
long threadCount(pid_t pid);

}  // namespace contd::testing
