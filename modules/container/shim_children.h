#pragma once
// Whether a runc shim found on the host still works for containers other than the one it
// was started for. With grouped shims (runtime_choice.h, `shim_group` "namespace") one
// shim process serves every container of a namespace, though its command line and working
// directory name only the first container it was started for: that container can be gone,
// or its Create cut off, while the shim runs the others. Such a shim is never an orphan.

#include <sys/types.h>

#include <filesystem>
#include <string_view>

namespace contd::container {

// True when a child process of `shim` (under `proc`, normally /proc) is in the cgroup of
// another container of `ns` (contd's cgroupsPath "/<ns>/<name>"), or is an OCI runtime
// (runc, crun) not yet in the cgroup of `id`: a Create of another container at work.
bool servesOtherContainers(const std::filesystem::path& proc, pid_t shim, std::string_view ns,
                           std::string_view id);

}  // namespace contd::container
