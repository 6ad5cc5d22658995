#pragma once
// containerd's task Create waits, with no timeout of its own, until the container's log
// driver says it is ready. A logger that never does hangs the Create and leaves the runc
// shim waiting forever. When contd's own deadline on Create passes, it ends that logger:
// the process whose executable is contd's log shim and whose environment names this
// container (the shim starts it with exactly CONTAINER_ID and CONTAINER_NAMESPACE). The
// shim's Create then fails and containerd cleans up after it.

#include <filesystem>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "modules/container/shim_host.h"

namespace contd::container {

// Pids of processes running `executable` with CONTAINER_NAMESPACE=ns and CONTAINER_ID=id in
// their environment. `proc` is /proc (a parameter for tests).
std::vector<pid_t> findLoggers(const std::filesystem::path& executable, std::string_view ns,
                               std::string_view id,
                               const std::filesystem::path& proc = "/proc");

// Every process running `executable` with both variables in its environment (contd's log
// drivers: the holder and the writer it forks), with the container each one names.
std::vector<HostLogger> findAllLoggers(const std::filesystem::path& executable,
                                       const std::filesystem::path& proc = "/proc");

}  // namespace contd::container
