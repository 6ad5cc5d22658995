#include "tests/integration/support/private_containerd.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <thread>

#include "tests/integration/support/files.h"
#include "tests/integration/support/run_command.h"

namespace contd::testing {
namespace {

// TOML basic string: quotes and backslashes escaped (temp paths have neither, but a
// TMPDIR could).
std::string tomlString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string configToml(const std::string& dir, const std::string& socket) {
  // The CRI plugin would start a streaming server and look for CNI; the snapshotters
  // listed need kernel or filesystem support this machine may lack and only log failures.
  return "version = 2\n"
         "root = " +
         tomlString(dir + "/root") +
         "\n"
         "state = " +
         tomlString(dir + "/state") +
         "\n"
         "disabled_plugins = [\"io.containerd.grpc.v1.cri\", "
         "\"io.containerd.snapshotter.v1.aufs\", \"io.containerd.snapshotter.v1.btrfs\", "
         "\"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.snapshotter.v1.zfs\"]\n"
         "\n[grpc]\n"
         "  address = " +
         tomlString(socket) +
         "\n"
         "\n[ttrpc]\n"
         "  address = " +
         tomlString(socket + ".ttrpc") +
         "\n"
         "\n[plugins.\"io.containerd.internal.v1.opt\"]\n"
         "  path = " +
         tomlString(dir + "/opt") + "\n";
}

bool socketAccepts(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}


constexpr char kSharedRunDir[] = "/run/containerd";
// Present while /run/containerd exists because a test made it (not a system containerd).
constexpr char kSharedRunDirMarker[] = "/run/contd-itest-containerd-dir";

// Takes a shared flock on /run/containerd, creating it (and the marker) when missing.
// The lock must be on the directory that is current: a last user may have removed the one
// we opened before we got the lock, so compare inodes and retry.
Result<int> lockSharedRunDir() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::mkdir(kSharedRunDir, 0711) == 0) {
      const int marker = ::open(kSharedRunDirMarker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (marker >= 0) {
        ::close(marker);
      }
    } else if (errno != EEXIST) {
      return sysError(std::string("mkdir '") + kSharedRunDir + "'", errno);
    }
    const int fd = ::open(kSharedRunDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      continue;  // removed between mkdir and open
    }
    while (::flock(fd, LOCK_SH) != 0 && errno == EINTR) {
    }
    struct stat locked {};
    struct stat current {};
    if (::fstat(fd, &locked) == 0 && ::stat(kSharedRunDir, &current) == 0 &&
        locked.st_ino == current.st_ino && locked.st_dev == current.st_dev) {
      return fd;
    }
    ::close(fd);
  }
  return internalError(std::string("lock '") + kSharedRunDir + "': it keeps being replaced");
}

// Drops our shared lock; the last holder removes what the tests made, if it is empty.
void unlockSharedRunDir(int fd) {
  if (fd < 0) {
    return;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::access(kSharedRunDirMarker, F_OK) == 0) {
    // rmdir fails on a non-empty folder, which is what we want: a leftover shim socket or
    // runc state is then visible rather than deleted.
    ::rmdir((std::string(kSharedRunDir) + "/s").c_str());
    ::rmdir((std::string(kSharedRunDir) + "/runc").c_str());
    if (::rmdir(kSharedRunDir) == 0) {
      ::unlink(kSharedRunDirMarker);
    }
  }
  ::close(fd);
}

}  // namespace

PrivateContainerd::PrivateContainerd(TempDir dir, Options options)
    : dir_(std::move(dir)), options_(options), socket_path_(dir_.string() + "/containerd.sock") {}

Result<std::unique_ptr<PrivateContainerd>> PrivateContainerd::start() { return start(Options{}); }

Result<std::unique_ptr<PrivateContainerd>> PrivateContainerd::start(Options options) {
  auto dir = TempDir::make("contd-containerd");
  if (!dir) {
    return dir.error();
  }
  std::unique_ptr<PrivateContainerd> containerd(new PrivateContainerd(std::move(*dir), options));
  // sun_path holds 108 bytes, and the ttrpc socket name is 6 longer than the gRPC one.
  if (containerd->socket_path_.size() + 6 >= sizeof(sockaddr_un::sun_path)) {
    return invalidArgument("private containerd: socket path '" + containerd->socket_path_ +
                           "' is too long for a unix socket; use a shorter TMPDIR");
  }
  auto lock = lockSharedRunDir();
  if (!lock) {
    return lock.error().wrap("private containerd");
  }
  containerd->run_dir_lock_ = *lock;
  const std::string config_path = containerd->dir() + "/config.toml";
  std::ofstream config(config_path);
  config << configToml(containerd->dir(), containerd->socket_path_);
  config.close();
  if (!config) {
    return internalError("write '" + config_path + "' failed");
  }
  CONTD_RETURN_IF_ERROR(containerd->launch());
  return containerd;
}

Status PrivateContainerd::launch() {
  if (pid_ != 0) {
    return failedPrecondition("private containerd: already running as pid " + std::to_string(pid_));
  }
  const std::string log_path = logPath();
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return sysError("open '" + log_path + "'", errno);
  }
  auto pid = spawnProcess(
      SpawnOptions{{"containerd", "--config", dir() + "/config.toml"}, log_fd, log_fd, SIGTERM});
  ::close(log_fd);
  if (!pid) {
    return pid.error().wrap("start private containerd");
  }
  pid_ = *pid;

  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (!socketAccepts(socket_path_)) {
    if (reapIfExited(pid_)) {
      pid_ = 0;
      return unavailable("private containerd exited during start-up; its log ends with:\n" +
                         logTail());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)stop();
      return unavailable("private containerd did not answer on '" + socket_path_ + "' within " +
                         std::to_string(options_.start_timeout.count()) +
                         " ms; its log ends with:\n" + logTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return okStatus();
}

PrivateContainerd::~PrivateContainerd() {
  if (Status s = stop(); !s) {
    std::cerr << "contd test support: " << s.error().message << "\n";
  }
  if (Status s = dir_.remove(); !s) {
    std::cerr << "contd test support: " << s.error().message << "\n";
  }
  unlockSharedRunDir(run_dir_lock_);
}

std::string PrivateContainerd::logPath() const { return dir() + "/containerd.log"; }

std::string PrivateContainerd::logTail(std::size_t max_bytes) const {
  return testing::logTail(logPath(), max_bytes);
}

Status PrivateContainerd::stop() {
  if (pid_ == 0) {
    return okStatus();
  }
  bool killed = false;
  auto status = terminateChild(pid_, options_.stop_timeout, &killed);
  if (!status) {
    return status.error().wrap("stop private containerd");
  }
  if (killed) {
    std::cerr << "contd test support: containerd pid " << pid_ << " ignored SIGTERM for "
              << options_.stop_timeout.count() << " ms; sent SIGKILL\n";
  }
  pid_ = 0;
  return okStatus();
}

Status PrivateContainerd::crash() {
  if (pid_ == 0) {
    return okStatus();
  }
  CONTD_RETURN_IF_ERROR(killChild(pid_));
  pid_ = 0;
  return okStatus();
}

Status PrivateContainerd::restart() { return launch(); }

}  // namespace contd::testing
