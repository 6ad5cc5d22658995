#include "tests/integration/support/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "modules/common/unique_fd.h"

extern char** environ;

namespace contd::testing {
namespace {

bool isExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Closes every fd from `first` up, except `keep`, which is close-on-exec anyway and reports
// an exec failure to the parent. Async-signal-safe: runs between fork and exec.
void closeFrom(unsigned first, int keep) {
  const unsigned k = static_cast<unsigned>(keep);
  if (keep >= static_cast<int>(first)) {
    if (k > first) {
      ::close_range(first, k - 1, 0);
    }
    ::close_range(k + 1, UINT_MAX, 0);
  } else {
    ::close_range(first, UINT_MAX, 0);
  }
}

// dup2 that also works when `from` already is `to` (dup2 would then leave close-on-exec
// set). Async-signal-safe.
bool placeFd(int from, int to) {
  if (from == to) {
    return ::fcntl(to, F_SETFD, 0) == 0;
  }
  return ::dup2(from, to) >= 0;
}

void writeErrnoAndExit(int fd, int err) {
  // Nothing sensible is left to do if this write fails: the parent then sees exit 127.
  [[maybe_unused]] ssize_t n = ::write(fd, &err, sizeof(err));
  ::_exit(127);
}

int exitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return WEXITSTATUS(wait_status);
  }
  if (WIFSIGNALED(wait_status)) {
    return 128 + WTERMSIG(wait_status);
  }
  return -1;
}

void drain(int fd, std::string& into, bool& open) {
  char buf[8192];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  if (n > 0) {
    into.append(buf, static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    open = false;
  }
}

}  // namespace

std::optional<std::string> findOnPath(std::string_view name) {
  if (name.empty()) {
    return std::nullopt;
  }
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    return isExecutableFile(path) ? std::optional(path) : std::nullopt;
  }
  const char* env_path = std::getenv("PATH");
  std::string_view dirs = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) {
      dir = ".";
    }
    std::string candidate = dir + "/" + std::string(name);
    if (isExecutableFile(candidate)) {
      return candidate;
    }
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    dirs.remove_prefix(colon + 1);
  }
}

std::string describeCommand(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) {
      line += ' ';
    }
    if (arg.empty() || arg.find_first_of(" \t\n'\"\\") != std::string::npos) {
      line += '\'';
      for (char c : arg) {
        line += c == '\'' ? std::string("'\\''") : std::string(1, c);
      }
      line += '\'';
    } else {
      line += arg;
    }
  }
  return line;
}

Result<pid_t> spawnProcess(const SpawnOptions& options) {
  if (options.argv.empty()) {
    return invalidArgument("spawn: empty command line");
  }
  const auto program = findOnPath(options.argv[0]);
  if (!program) {
    return notFound("spawn '" + options.argv[0] + "': not found on PATH");
  }
  // Everything the child needs is built before fork: after it, no allocation is allowed.
  std::vector<char*> argv;
  for (const auto& arg : options.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);

  UniqueFd dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (dev_null.get() < 0) {
    return sysError("open '/dev/null'", errno);
  }
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return sysError("pipe2", errno);
  }
  UniqueFd exec_read(exec_pipe[0]);
  UniqueFd exec_write(exec_pipe[1]);
  const int out_fd = options.stdout_fd >= 0 ? options.stdout_fd : dev_null.get();
  const int err_fd = options.stderr_fd >= 0 ? options.stderr_fd : dev_null.get();
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    return sysError("fork", errno);
  }
  if (pid == 0) {
    if (options.parent_death_signal != 0) {
      ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
      // The parent may have died before prctl: then nobody would ever send the signal.
      if (::getppid() != parent) {
        ::_exit(127);
      }
    }
    // dup2 clears close-on-exec on the targets; the sources are closed below.
    if (!placeFd(dev_null.get(), 0) || !placeFd(out_fd, 1) || !placeFd(err_fd, 2)) {
      writeErrnoAndExit(exec_write.get(), errno);
    }
    closeFrom(3, exec_write.get());
    // Signals blocked or ignored by the test runner must not be inherited.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(program->c_str(), argv.data(), environ);
    writeErrnoAndExit(exec_write.get(), errno);
  }

  exec_write.reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_read.get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    // exec failed: reap the child now, it has already exited.
    int status = 0;
    ::waitpid(pid, &status, 0);
    return sysError("exec '" + *program + "'", child_errno);
  }
  return pid;
}

Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return sysError("pipe2", errno);
  }
  UniqueFd out_read(out_pipe[0]);
  UniqueFd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return sysError("pipe2", errno);
  }
  UniqueFd err_read(err_pipe[0]);
  UniqueFd err_write(err_pipe[1]);

  auto pid = spawnProcess(SpawnOptions{argv, out_write.get(), err_write.get(), 0});
  if (!pid) {
    return pid.error();
  }
  // Our copies of the write ends must go, or the reads below never see EOF.
  out_write.reset();
  err_write.reset();

  CommandResult result;
  bool out_open = true;
  bool err_open = true;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      ::kill(*pid, SIGKILL);
      break;
    }
    pollfd fds[2] = {{out_open ? out_read.get() : -1, POLLIN, 0},
                     {err_open ? err_read.get() : -1, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      ::kill(*pid, SIGKILL);
      ::waitpid(*pid, nullptr, 0);
      return sysError("poll", errno);
    }
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      drain(out_read.get(), result.out, out_open);
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      drain(err_read.get(), result.err, err_open);
    }
  }

  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return sysError("waitpid", errno);
    }
  }
  if (timed_out) {
    return makeError(Code::kDeadlineExceeded, "'" + describeCommand(argv) + "': killed after " +
                                                  std::to_string(timeout.count()) + " ms");
  }
  result.exit_code = exitCodeOf(status);
  return result;
}

Result<std::string> runChecked(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout) {
  auto result = runCommand(argv, timeout);
  if (!result) {
    return result.error();
  }
  if (!result->ok()) {
    std::string err = result->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) {
      err.pop_back();
    }
    return internalError("'" + describeCommand(argv) + "' exited with " +
                         std::to_string(result->exit_code) + (err.empty() ? "" : ": " + err));
  }
  return std::move(result->out);
}

std::optional<int> reapIfExited(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r < 0 && errno == ECHILD) {
    return -1;
  }
  if (r != pid) {
    return std::nullopt;
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

Status killChild(pid_t pid) {
  if (::kill(pid, SIGKILL) != 0 && errno != ESRCH) {
    return sysError("kill pid " + std::to_string(pid), errno);
  }
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return okStatus();
}

Result<int> terminateChild(pid_t pid, std::chrono::milliseconds timeout, bool* killed) {
  *killed = false;
  if (::kill(pid, SIGTERM) != 0 && errno != ESRCH) {
    return sysError("kill pid " + std::to_string(pid), errno);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto status = reapIfExited(pid)) {
      return *status;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      *killed = true;
      CONTD_RETURN_IF_ERROR(killChild(pid));
      return 128 + SIGKILL;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace contd::testing
