#include "modules/daemon/containerd_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace contd::daemon {
namespace {

// The pid written in the lock file, or "unknown" when it cannot be read.
std::string holderPid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  std::string text = n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    return "unknown";
  }
  return text;
}

}  // namespace

std::string besideContainerd(const std::string& socket_path, std::string_view suffix) {
  char resolved[PATH_MAX];
  const std::string base =
      ::realpath(socket_path.c_str(), resolved) != nullptr ? std::string(resolved) : socket_path;
  return base + std::string(suffix);
}

std::string containerdLockPath(const std::string& socket_path) {
  return besideContainerd(socket_path, ".contd.lock");
}

Result<UniqueFd> lockContainerd(const std::string& socket_path) {
  const std::string path = containerdLockPath(socket_path);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) {
    return sysError("open lock file '" + path + "'", errno);
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return failedPrecondition("another contd (pid " + holderPid(fd.get()) +
                                ") already drives containerd at '" + socket_path + "' (lock '" +
                                path + "'): one contd per containerd");
    }
    return sysError("flock '" + path + "'", err);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return sysError("write pid to '" + path + "'", errno);
  }
  return fd;
}

}  // namespace contd::daemon
