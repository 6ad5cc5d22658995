#include "modules/daemon/runtime_version.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "modules/common/unique_fd.h"

extern char** environ;

namespace contd::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxOutput = 4096;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Reads the child's stdout until EOF, kMaxOutput bytes or the deadline. False on timeout.
bool readOutput(int fd, Clock::time_point deadline, std::string& out) {
  char buffer[512];
  while (out.size() < kMaxOutput) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return ready == 0 ? false : true;
    }
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return true;
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<std::string> parseRuntimeVersion(std::string_view output) {
  const std::string_view line = trim(output.substr(0, output.find('\n')));
  if (line.empty()) {
    return invalidArgument("no version line in its output");
  }
  constexpr std::string_view kWord = "version ";
  if (const auto at = line.find(kWord); at != std::string_view::npos) {
    const std::string_view rest = trim(line.substr(at + kWord.size()));
    const std::string_view word = rest.substr(0, rest.find(' '));
    if (!word.empty()) {
      return std::string(word);
    }
  }
  return std::string(line);
}

Result<std::string> readRuntimeVersion(const std::string& runtime,
                                       std::chrono::milliseconds timeout) {
  const std::string what = "runtime '" + runtime + "' --version";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return sysError(what + ": pipe", errno);
  }
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv = {const_cast<char*>(runtime.c_str()),
                             const_cast<char*>("--version"), nullptr};
  pid_t child = 0;
  const int rc = ::posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (rc != 0) {
    return sysError(what + ": run", rc);
  }
  std::string output;
  const bool in_time = readOutput(read_end.get(), Clock::now() + timeout, output);
  if (!in_time) {
    ::kill(child, SIGKILL);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!in_time) {
    return makeError(Code::kDeadlineExceeded, what + ": no answer within " + std::to_string(timeout.count()) +
                            " ms");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError(Code::kUnknown, what + ": " + (WIFEXITED(status)
                                           ? "exit status " + std::to_string(WEXITSTATUS(status))
                                           : "killed by signal " + std::to_string(WTERMSIG(status))));
  }
  auto version = parseRuntimeVersion(output);
  if (!version) {
    return version.error().wrap(what);
  }
  return version;
}

Result<std::string> RuntimeVersions::of(const std::string& runtime) {
  std::lock_guard lock(mu_);
  auto known = known_.find(runtime);
  if (known == known_.end()) {
    known = known_.emplace(runtime, readRuntimeVersion(runtime, std::chrono::seconds(5))).first;
  }
  return known->second;
}

}  // namespace contd::daemon
