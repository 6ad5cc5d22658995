#include "modules/container/netns_check.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "modules/common/printable.h"
#include "modules/common/unique_fd.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

Error fieldError(std::string_view field, const std::string& what) {
  return invalidArgument(std::string(field) + ": " + what);
}

// NSFS_MAGIC of linux/magic.h, the file system of namespace files.
constexpr decltype(statfs::f_type) kNsfsMagic = 0x6e736673;

bool sameFile(const struct stat& a, const char* other) {
  struct stat b {};
  return ::stat(other, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool underProc(const fs::path& path) {
  return path == "/proc" || path.native().rfind("/proc/", 0) == 0;
}

// `path` with its symlinks followed as far as they lead to paths: its folders by
// canonical(), then the file's own symlinks one by one, stopping in /proc. A namespace file
// there is a "magic" link whose target ("net:[4026531840]") is no path, so canonical() of
// the whole path failed with ENOENT and a process's namespace was refused as missing.
Result<fs::path> resolve(std::string_view field, const fs::path& path) {
  fs::path current = path;
  for (int hops = 0; hops <= 40; ++hops) {  // the kernel's MAXSYMLINKS
    std::error_code ec;
    const fs::path name = current.filename();
    const bool folder = name.empty() || name == "." || name == "..";
    const fs::path parent = fs::canonical(folder ? current : current.parent_path(), ec);
    if (ec) {
      return fieldError(field, "resolve " + inQuotes(current.native()) + ": " + ec.message());
    }
    current = folder ? parent : parent / name;
    if (folder || underProc(current) || !fs::is_symlink(fs::symlink_status(current, ec))) {
      return current;
    }
    const fs::path target = fs::read_symlink(current, ec);
    if (ec) {
      return fieldError(field, "resolve " + inQuotes(current.native()) + ": " + ec.message());
    }
    current = target.is_absolute() ? target : parent / target;
  }
  return fieldError(field, "resolve " + inQuotes(path.native()) + ": too many symbolic links");
}

}  // namespace

Status checkJoinableNetns(std::string_view field, const std::filesystem::path& path) {
  const std::string quoted = inQuotes(path.native());
  auto resolved = resolve(field, path);
  if (!resolved) {
    return resolved.error();
  }
  if (underProc(*resolved)) {
    return fieldError(field, quoted + " is a process's namespace under /proc; give a "
                                      "pre-created one (a name in the netns folder or its path)");
  }
  // Only a file of the namespace file system is ever opened: opening a caller's path could
  // otherwise have effects of its own (a device such as a watchdog, a fifo).
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) {
    return fieldError(field, "statfs " + quoted + ": " + std::strerror(errno));
  }
  if (fs.f_type != kNsfsMagic) {
    return fieldError(field, quoted + " is not a network namespace");
  }
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    return fieldError(field, "open " + quoted + ": " + std::strerror(errno));
  }
  const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    return fieldError(field, quoted + " is not a network namespace");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fieldError(field, "stat " + quoted + ": " + std::strerror(errno));
  }
  if (sameFile(st, "/proc/1/ns/net")) {
    return fieldError(field, quoted + " is the host's network namespace");
  }
  if (sameFile(st, "/proc/self/ns/net")) {
    return fieldError(field, quoted + " is contd's own network namespace");
  }
  return okStatus();
}

}  // namespace contd::container
