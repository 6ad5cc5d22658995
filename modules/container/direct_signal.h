#pragma once
// A signal to a container's init sent by contd itself, through a pidfd, instead of a
// tasks.Kill round trip (the shim running `runc kill` or `crun kill`: about 10 ms with
// runc). Used for the graceful SIGTERM of Delete and Stop; SIGKILL stays with containerd,
// which kills every process of the container.
//
// Safe against pid reuse: the pidfd is opened first, then the process behind the pid must
// be in the container's cgroup ("/<ns>/<id>", contd's cgroupsPath); a process that ended
// in between makes pidfd_send_signal fail. Any thread.

#include <sys/types.h>

#include <filesystem>
#include <string_view>

namespace contd::container {

// True when `signal` was sent to `pid`, the init of container `id` in `ns`; false when it
// could not be (no pidfd support, not that container's process, gone): the caller then
// asks containerd. `proc` is /proc but for tests.
bool signalContainerInit(pid_t pid, std::string_view ns, std::string_view id, int signal,
                         const std::filesystem::path& proc = "/proc");

}  // namespace contd::container
