#pragma once
// Files of a host directory rootfs as the container will see them: every path, and every
// symlink on the way, resolves inside the rootfs (openat2 RESOLVE_IN_ROOT, no magic
// links), so "/etc/passwd -> /etc/passwd.real" reads <rootfs>/etc/passwd.real and never
// the host's. Any thread; nothing is changed on disk.

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::container {

// The kind and mode of `path` inside `rootfs`, following symlinks inside it; nullopt when
// there is no such file. Errors (kInternal, naming the path): any other failure.
Result<std::optional<struct stat>> statInRoot(const std::filesystem::path& rootfs,
                                              std::string_view path);

// The content of the regular file `path` inside `rootfs`; nullopt when there is no such
// file. Errors: kInvalidArgument for something that is not a regular file or is larger
// than `max_bytes`; kInternal for other failures (naming the path).
Result<std::optional<std::string>> readInRoot(const std::filesystem::path& rootfs,
                                              std::string_view path, std::size_t max_bytes);

// Where the program `command` (argv[0]) is inside `rootfs`, found as execve(2) in the
// container will find it: an absolute path as is, a relative one with a '/' from
// `working_dir`, a bare name in each directory of `path_env` (a PATH value) in turn. The
// program is a regular file with an execute bit. nullopt when there is none.
Result<std::optional<std::string>> findProgram(const std::filesystem::path& rootfs,
                                               std::string_view command,
                                               std::string_view working_dir,
                                               std::string_view path_env);

}  // namespace contd::container
