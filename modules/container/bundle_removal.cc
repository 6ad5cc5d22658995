#include "modules/container/bundle_removal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "modules/container/stale_bundle.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

class Fd {
public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }

private:
  int fd_;
};

// The mount id of `name` in `dirfd` (not following a final symlink); the device number
// stands in on kernels without STATX_MNT_ID.
std::optional<std::uint64_t> mountOf(int dirfd, const char* name) {
  struct statx sx {};
  const int flags = AT_SYMLINK_NOFOLLOW | (name[0] == '\0' ? AT_EMPTY_PATH : 0);
  if (::statx(dirfd, name, flags, STATX_TYPE | STATX_MNT_ID, &sx) != 0) {
    return std::nullopt;
  }
  if ((sx.stx_mask & STATX_MNT_ID) != 0) {
    return sx.stx_mnt_id;
  }
  return (std::uint64_t{sx.stx_dev_major} << 32) | sx.stx_dev_minor;
}

// Removes everything in the directory `fd` (on mount `mount`); `where` names it in errors.
Status removeContents(int fd, std::uint64_t mount, const fs::path& where) {
  const int listing = ::dup(fd);
  DIR* dir = listing < 0 ? nullptr : ::fdopendir(listing);
  if (dir == nullptr) {
    const int err = errno;
    if (listing >= 0) {
      ::close(listing);
    }
    return sysError("list " + where.string(), err);
  }
  Status status = okStatus();
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    struct stat st {};
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // gone meanwhile
    }
    if (S_ISDIR(st.st_mode)) {
      auto child_mount = mountOf(fd, name.c_str());
      if (!child_mount || *child_mount != mount) {
        status = failedPrecondition((where / name).string() + " is a mount point, left alone");
        break;
      }
      Fd child(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      auto opened_mount = child.get() < 0 ? std::nullopt : mountOf(child.get(), "");
      if (!opened_mount || *opened_mount != mount) {
        status = failedPrecondition("cannot enter " + (where / name).string() + " safely");
        break;
      }
      status = removeContents(child.get(), mount, where / name);
      if (!status) {
        break;
      }
    }
    if (::unlinkat(fd, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 &&
        errno != ENOENT) {
      status = sysError("remove " + (where / name).string(), errno);
      break;
    }
  }
  ::closedir(dir);  // closes `listing`
  return status;
}

// `path` names itself: the real path of its parent is the parent as written.
bool noSymlinkAbove(const fs::path& path) {
  char real[PATH_MAX];
  return ::realpath(path.parent_path().c_str(), real) != nullptr &&
         fs::path(real) == path.parent_path();
}

void unmountRootfs(const fs::path& bundle, std::uint64_t bundle_mount) {
  const fs::path rootfs = bundle / "rootfs";
  for (int i = 0; i < 8; ++i) {
    auto mount = mountOf(AT_FDCWD, rootfs.c_str());
    if (!mount || *mount == bundle_mount) {
      return;
    }
    ::umount2(rootfs.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  }
}

}  // namespace

Status removeTreeOnOneMount(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    return errno == ENOENT ? okStatus() : sysError("open " + dir.string(), errno);
  }
  auto mount = mountOf(fd.get(), "");
  if (!mount) {
    return sysError("stat " + dir.string(), errno);
  }
  CONTD_RETURN_IF_ERROR(removeContents(fd.get(), *mount, dir));
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return sysError("remove " + dir.string(), errno);
  }
  return okStatus();
}

Status removeTaskBundle(std::string_view ns, std::string_view id, const fs::path& bundle) {
  if (!isTaskBundlePath(bundle, ns, id) || !noSymlinkAbove(bundle)) {
    return failedPrecondition("'" + bundle.string() + "' is no bundle path of '" +
                              std::string(id) + "' in '" + std::string(ns) + "'");
  }
  struct stat st {};
  if (::lstat(bundle.c_str(), &st) != 0) {
    return errno == ENOENT ? okStatus() : sysError("stat " + bundle.string(), errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return failedPrecondition(bundle.string() + " is not a directory, left alone");
  }
  auto bundle_mount = mountOf(AT_FDCWD, bundle.c_str());
  if (!bundle_mount) {
    return sysError("stat " + bundle.string(), errno);
  }
  unmountRootfs(bundle, *bundle_mount);
  std::error_code ec;
  const fs::path work = fs::read_symlink(bundle / "work", ec);
  if (!ec && isTaskBundlePath(work, ns, id) && noSymlinkAbove(work)) {
    CONTD_RETURN_IF_ERROR(removeTreeOnOneMount(work));
  }
  return removeTreeOnOneMount(bundle);
}

}  // namespace contd::container
