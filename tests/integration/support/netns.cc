#include "tests/integration/support/netns.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kRunDir[] = "/var/run";
constexpr char kNetnsDir[] = "/var/run/netns";
// Present while /var/run/netns exists because a test made it: then the tests remove it.
constexpr char kOwnedMarker[] = "/var/run/contd-itest-netns-dir";

// flock on the /var/run directory itself: a lock that needs no file of its own, so
// nothing is left behind, and that every test process agrees on.
class RunDirLock {
public:
  RunDirLock() : fd_(::open(kRunDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~RunDirLock() {
    if (fd_ >= 0) {
      ::close(fd_);  // releases the lock
    }
  }
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;

private:
  int fd_;
};

// Called with the lock held, after our namespace is gone.
Status removeNetnsDirIfOursAndEmpty() {
  std::error_code ec;
  if (!fs::exists(kOwnedMarker, ec) || !fs::is_directory(kNetnsDir, ec) ||
      !fs::is_empty(kNetnsDir, ec)) {
    return okStatus();
  }
  auto mounts = mountsBelow(fs::canonical(kNetnsDir, ec));
  if (mounts && !mounts->empty()) {
    // `ip` bind-mounted the directory onto itself; a plain umount removes exactly that.
    if (::umount2(kNetnsDir, UMOUNT_NOFOLLOW) != 0 && errno != EINVAL) {
      return sysError(std::string("umount '") + kNetnsDir + "'", errno);
    }
  }
  if (::rmdir(kNetnsDir) != 0 && errno != ENOENT) {
    return sysError(std::string("rmdir '") + kNetnsDir + "'", errno);
  }
  fs::remove(kOwnedMarker, ec);
  return okStatus();
}

}  // namespace

Result<std::unique_ptr<NetworkNamespace>> NetworkNamespace::create(std::string_view prefix) {
  std::string name = uniqueName(prefix);
  RunDirLock lock;
  std::error_code ec;
  if (!fs::exists(kNetnsDir, ec)) {
    std::ofstream marker(kOwnedMarker);
    if (!marker) {
      return sysError(std::string("create '") + kOwnedMarker + "'", errno);
    }
  }
  auto added = runChecked({"ip", "netns", "add", name});
  if (!added) {
    (void)removeNetnsDirIfOursAndEmpty();
    return added.error().wrap("create network namespace '" + name + "'");
  }
  return std::unique_ptr<NetworkNamespace>(new NetworkNamespace(std::move(name)));
}

NetworkNamespace::~NetworkNamespace() {
  if (Status s = remove(); !s) {
    std::cerr << "contd test support: " << s.error().message << "\n";
  }
}

std::string NetworkNamespace::path() const { return std::string(kNetnsDir) + "/" + name_; }

Status NetworkNamespace::remove() {
  if (removed_) {
    return okStatus();
  }
  RunDirLock lock;
  auto deleted = runChecked({"ip", "netns", "delete", name_});
  if (!deleted) {
    return deleted.error().wrap("delete network namespace '" + name_ + "'");
  }
  removed_ = true;
  return removeNetnsDirIfOursAndEmpty();
}

}  // namespace contd::testing
