#pragma once
// Whether a runc shim found on the host still works for containers other than the one it
// was started for. With grouped shims (runtime_choice.h, `shim_group` "namespace") one
// shim process serves every container of a namespace, though its command line and working
// directory name only the first container it was started for: that container can be gone,
// or its Create cut off, while the shim runs the others. Such a shim is never an orphan.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <set>
#include <string_view>
#include <vector>

namespace contd::container {

// The child pids of each of `parents`, from one scan of `proc` (normally /proc).
std::map<pid_t, std::vector<pid_t>> childrenOf(const std::filesystem::path& proc,
                                               const std::set<pid_t>& parents);

// True when one of `children` (a shim's, from childrenOf) is in the cgroup of another
// container of `ns` (contd's cgroupsPath "/<ns>/<name>"), or is an OCI runtime (runc, crun)
// not yet in the cgroup of `id`: a Create of another container at work.
bool servesOtherContainers(const std::filesystem::path& proc, const std::vector<pid_t>& children,
                           std::string_view ns, std::string_view id);

}  // namespace contd::container
