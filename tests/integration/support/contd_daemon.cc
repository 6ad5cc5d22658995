#include "tests/integration/support/contd_daemon.h"

#include <deque>
#include <fstream>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/integration/support/files.h"
#include "tests/integration/support/run_command.h"

namespace contd::testing {
namespace {

using Clock = std::chrono::steady_clock;

bool accepts(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}


}  // namespace

Result<std::unique_ptr<ContdDaemon>> ContdDaemon::start(Options options) {
  std::unique_ptr<ContdDaemon> daemon(new ContdDaemon(std::move(options)));
  CONTD_RETURN_IF_ERROR(daemon->launch());
  return daemon;
}

Status ContdDaemon::launch() {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  const std::string log = (options_.dir / "contd.log").string();
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return sysError("open '" + log + "'", errno);
  }
  SpawnOptions spawn;
  spawn.argv = {options_.binary, "--containerd", options_.containerd_socket, "--listen",
                socketPath(), "--log-root", logRoot().string()};
  spawn.argv.insert(spawn.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  spawn.stdout_fd = log_fd;
  spawn.stderr_fd = log_fd;
  spawn.parent_death_signal = SIGKILL;
  auto pid = spawnProcess(spawn);
  ::close(log_fd);
  if (!pid) {
    return pid.error();
  }
  pid_ = *pid;

  const auto deadline = Clock::now() + options_.start_timeout;
  while (Clock::now() < deadline) {
    if (auto exited = reapIfExited(pid_)) {
      pid_ = -1;
      return unavailable("contd exited with " + std::to_string(*exited) + " at start: " +
                         logTail());
    }
    if (accepts(socketPath())) {
      return okStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (void)crash();
  return unavailable("contd did not listen on '" + socketPath() + "' in time: " + logTail());
}

ContdDaemon::~ContdDaemon() {
  if (pid_ > 0) {
    (void)stop();
  }
}

std::string ContdDaemon::logLines(std::string_view text) const {
  std::ifstream log(options_.dir / "contd.log");
  std::deque<std::string> found;
  for (std::string line; std::getline(log, line);) {
    if (line.find(text) != std::string::npos) {
      found.push_back(std::move(line));
      if (found.size() > 200) {
        found.pop_front();
      }
    }
  }
  std::string out;
  for (const auto& line : found) {
    out += line + "\n";
  }
  return out;
}

std::string ContdDaemon::logTail(std::size_t max_bytes) const {
  return testing::logTail(options_.dir / "contd.log", max_bytes);
}

Result<int> ContdDaemon::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return failedPrecondition("contd is not running");
  }
  bool killed = false;
  auto status = terminateChild(pid_, timeout, &killed);
  pid_ = -1;
  if (status && killed) {
    return makeError(Code::kDeadlineExceeded, "contd did not stop on SIGTERM: " + logTail());
  }
  return status;
}

Status ContdDaemon::crash() {
  if (pid_ <= 0) {
    return failedPrecondition("contd is not running");
  }
  CONTD_RETURN_IF_ERROR(killChild(pid_));
  pid_ = -1;
  return okStatus();
}

Status ContdDaemon::restart() {
  if (pid_ > 0) {
    return failedPrecondition("contd is still running");
  }
  return launch();
}

}  // namespace contd::testing
