#pragma once
// The user a container's processes run as: ContainerSpec::user ("", "uid", "uid:gid",
// "name", "name:group", "uid:group", "name:gid") resolved to numbers against the
// container's own /etc/passwd and /etc/group (docker's rules), and a reader of those
// files inside a host directory rootfs that cannot be led out of it by symlinks.
// Any thread; resolveUser is pure apart from what `read` does.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::container {

// The files resolveUser reads, and the most of either it takes.
inline constexpr char kPasswdPath[] = "/etc/passwd";
inline constexpr char kGroupPath[] = "/etc/group";
inline constexpr std::size_t kMaxUserFileBytes = 1 << 20;  // 1 MiB
inline constexpr std::size_t kMaxUserLength = 256;

// What the runtime spec's process.user gets.
struct ProcessUser {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> additional_gids;  // never holds gid

  bool operator==(const ProcessUser&) const = default;
};

// The content of `path` (kPasswdPath or kGroupPath) in the container's root, nullopt when
// there is no such file; an error when it cannot be read.
using FileReader = std::function<Result<std::optional<std::string>>(const std::string& path)>;

// ContainerSpec::user parsed once: USER[:GROUP], each part a name or a decimal 32-bit id.
struct UserRequest {
  std::string text;                   // as given, for messages; "" means root (0:0)
  std::string user;                   // the part before ':'
  std::optional<std::uint32_t> uid;   // user is a number
  std::optional<std::string> group;   // the part after ':', when there is one
  std::optional<std::uint32_t> gid;   // group is a number

  // Whether resolveUser reads any file: false for "" and for a numeric "uid:gid".
  bool needsFiles() const;
};

// `user` parsed ("name:group" -> {"name", "group"}). Errors (kInvalidArgument,
// "user: ..."): more than one ':', an empty part, whitespace or control characters, a
// numeric part above 2^32-1, longer than kMaxUserLength. "" is accepted (root).
Result<UserRequest> parseUser(std::string_view user);

// `user` as numbers (docker's rules):
//   ""            0:0, nothing read
//   "uid"         gid of the first /etc/passwd entry with that uid, else 0
//   "uid:gid"     as is, nothing read
//   "name"        uid and gid of the first /etc/passwd entry named so
//   "x:group"     the group part by the first /etc/group entry named so
// additional_gids, only when the user has a name (given, or the passwd entry of a bare
// uid): the gids of /etc/group entries listing that name as a member, in file order,
// without duplicates and without the primary gid. Comments, blank and malformed lines of
// either file are skipped; a missing file holds no entries.
// Errors (kInvalidArgument): "user 'x': no such user in the container's /etc/passwd";
// "user 'x:g': no such group 'g' in the container's /etc/group"; and the errors of
// `read`, behind "user '...'".
Result<ProcessUser> resolveUser(const UserRequest& user, const FileReader& read);

// Reads files of the host directory `rootfs` as the container would see them: the path
// and every symlink on the way resolve inside `rootfs` (openat2 RESOLVE_IN_ROOT, no magic
// links), so "/etc/passwd -> /etc/passwd.real" reads <rootfs>/etc/passwd.real, never the
// host's. Errors: kInvalidArgument for a file that is not a regular file or is larger
// than kMaxUserFileBytes; kInternal for other failures (naming the path).
FileReader rootfsFileReader(std::filesystem::path rootfs);

}  // namespace contd::container
