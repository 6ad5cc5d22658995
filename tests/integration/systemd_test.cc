// contd under a systemd stand-in: the test plays the service manager. It binds its own
// NOTIFY_SOCKET, sets WATCHDOG_USEC, passes sockets with LISTEN_FDS/LISTEN_PID and
// JOURNAL_STREAM, starts the real contd binary with fork+exec (LISTEN_PID must be the
// child's own pid) and reads what contd tells it.
//
// Needs root, containerd, runc; skips without them (fails with CI=true).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// 400 ms: contd pings every 200 ms, so a few seconds show many pings (or their absence).
constexpr int kWatchdogUsec = 400'000;

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

sockaddr_un unixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return addr;
}

// The service manager's end of sd_notify: a datagram socket, one message per datagram.
class NotifySocket {
public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_un addr = unixAddress(path_);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }

  // The next message within `timeout`, or nullopt.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) {
      return std::nullopt;
    }
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) {
      return std::nullopt;
    }
    return std::string(buffer, static_cast<std::size_t>(n));
  }

  // Waits for a message containing `needle`; every message seen on the way is appended
  // to `seen`. False when `timeout` passes first.
  bool waitFor(std::string_view needle, std::chrono::milliseconds timeout,
               std::vector<std::string>* seen = nullptr) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto message = receive(std::max(left, 1ms));
      if (!message) {
        continue;
      }
      if (seen != nullptr) {
        seen->push_back(*message);
      }
      if (message->find(needle) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  // How many messages containing `needle` arrive within `window`.
  int count(std::string_view needle, std::chrono::milliseconds window) {
    int n = 0;
    const auto deadline = Clock::now() + window;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto message = receive(std::max(left, 1ms));
      if (message && message->find(needle) != std::string::npos) {
        ++n;
      }
    }
    return n;
  }

private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

// A contd started the way systemd starts it. Only the pid it forked is ever signalled.
class SystemdStyleContd {
public:
  struct Options {
    std::vector<std::string> args;
    std::vector<std::string> env;  // "K=V"
    int listen_fd = -1;            // passed as fd 3 with LISTEN_FDS=1 and LISTEN_PID
    fs::path log;
  };

  static std::unique_ptr<SystemdStyleContd> start(const Options& options) {
    auto self = std::unique_ptr<SystemdStyleContd>(new SystemdStyleContd());
    self->log_ = options.log;
    std::vector<std::string> env = options.env;
    env.push_back("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    if (options.listen_fd >= 0) {
      env.push_back("LISTEN_FDS=1");
      env.push_back("LISTEN_FDNAMES=contd.socket");
      env.push_back("LISTEN_PID=0000000000");  // the child writes its pid in here
    }
    std::vector<char*> envp;
    for (auto& entry : env) {
      envp.push_back(entry.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> args = options.args;
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    char* listen_pid = options.listen_fd >= 0 ? env[env.size() - 1].data() : nullptr;
    const int log_fd = ::open(options.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      return nullptr;
    }

    const pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls from here to execve.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (listen_pid != nullptr) {
        char digits[16];
        int n = 0;
        for (pid_t me = ::getpid(); me > 0; me /= 10) {
          digits[n++] = static_cast<char>('0' + me % 10);
        }
        char* out = listen_pid + std::strlen("LISTEN_PID=");
        while (n > 0) {
          *out++ = digits[--n];
        }
        *out = '\0';
        if (::dup2(options.listen_fd, 3) < 0) {
          ::_exit(126);
        }
        ::fcntl(3, F_SETFD, 0);
      }
      const int null_fd = ::open("/dev/null", O_RDONLY);
      ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      for (int fd = listen_pid != nullptr ? 4 : 3; fd < 1024; ++fd) {
        ::close(fd);
      }
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(log_fd);
    if (pid < 0) {
      return nullptr;
    }
    self->pid_ = pid;
    return self;
  }

  ~SystemdStyleContd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  std::string logText() const { return readFile(log_); }

  // Sends `sig` and waits for the exit; the exit status, or -1.
  int stop(int sig = SIGTERM, std::chrono::milliseconds timeout = 10s) {
    ::kill(pid_, sig);
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

private:
  SystemdStyleContd() = default;
  pid_t pid_ = -1;
  fs::path log_;
};

class SystemdIT : public ::testing::Test {
protected:
  void SetUp() override {
    const std::string missing = missingContainerdPrerequisites();
    CONTD_REQUIRE_OR_SKIP(missing.empty(), missing);
    auto containerd = PrivateContainerd::start();
    ASSERT_TRUE(containerd) << containerd.error().message;
    containerd_ = std::move(*containerd);
    auto dir = TempDir::make("contd-systemd");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    notify_ = std::make_unique<NotifySocket>((dir_->path() / "notify.sock").string());
    ASSERT_TRUE(notify_->ok()) << "bind " << notify_->path() << ": " << std::strerror(errno);
  }

  void TearDown() override {
    if (contd_) {
      contd_.reset();
    }
    notify_.reset();
    containerd_.reset();
    if (dir_) {
      Status removed = dir_->remove();
      EXPECT_TRUE(removed) << removed.error().message;
    }
  }

  std::string apiSocket() const { return (dir_->path() / "contd.sock").string(); }

  SystemdStyleContd::Options contdOptions() const {
    return {.args = {CONTD_BIN, "--containerd", containerd_->socketPath(), "--listen",
                     apiSocket(), "--log-root", (dir_->path() / "logs").string()},
            .env = {"NOTIFY_SOCKET=" + notify_->path(),
                    "WATCHDOG_USEC=" + std::to_string(kWatchdogUsec)},
            .log = dir_->path() / "contd.log"};
  }

  // contctl ns over `socket`: true when the API answered.
  static bool apiAnswers(const std::string& socket) {
    auto result = runCommand({CONTCTL_BIN, "--socket", socket, "ns"}, 10s);
    return result && result->ok();
  }

  std::unique_ptr<PrivateContainerd> containerd_;
  std::optional<TempDir> dir_;
  std::unique_ptr<NotifySocket> notify_;
  std::unique_ptr<SystemdStyleContd> contd_;
};

TEST_F(SystemdIT, ReadyOnlyOnceContainerdAnswersThenWatchdogThenStopping) {
  // containerd is down at first: contd waits for it and must not claim readiness.
  ASSERT_TRUE(containerd_->stop());
  contd_ = SystemdStyleContd::start(contdOptions());
  ASSERT_TRUE(contd_);
  std::vector<std::string> early;
  EXPECT_FALSE(notify_->waitFor("READY=1", 2500ms, &early))
      << "READY=1 while containerd is down; log:\n" << contd_->logText();
  EXPECT_FALSE(fs::exists(apiSocket()));

  ASSERT_TRUE(containerd_->restart());
  ASSERT_TRUE(notify_->waitFor("READY=1", 20s)) << contd_->logText();
  // By the time READY=1 is sent, the API answers.
  EXPECT_TRUE(apiAnswers(apiSocket())) << contd_->logText();

  // Pings every WATCHDOG_USEC/2 = 200 ms, and a STATUS= summary.
  std::vector<std::string> seen;
  EXPECT_TRUE(notify_->waitFor("STATUS=0 containers running in 0 namespaces", 5s, &seen))
      << contd_->logText();
  EXPECT_GE(notify_->count("WATCHDOG=1", 2000ms), 5) << contd_->logText();

  // SIGHUP reloads without dropping the API.
  ASSERT_EQ(::kill(contd_->pid(), SIGHUP), 0);
  EXPECT_TRUE(notify_->waitFor("RELOADING=1", 5s)) << contd_->logText();
  EXPECT_TRUE(apiAnswers(apiSocket())) << contd_->logText();

  // containerd stops answering: the pings stop, so systemd would restart contd.
  ASSERT_TRUE(containerd_->stop());
  (void)notify_->count("WATCHDOG=1", 600ms);  // drain pings sent before the probe failed
  EXPECT_EQ(notify_->count("WATCHDOG=1", 1500ms), 0) << contd_->logText();
  // ... and resume once it is back.
  ASSERT_TRUE(containerd_->restart());
  EXPECT_TRUE(notify_->waitFor("WATCHDOG=1", 10s)) << contd_->logText();

  std::vector<std::string> last;
  EXPECT_EQ(contd_->stop(SIGTERM), 0) << contd_->logText();
  EXPECT_TRUE(notify_->waitFor("STOPPING=1", 2s, &last)) << contd_->logText();
  contd_.reset();
}

TEST_F(SystemdIT, NeverReadyWithoutContainerd) {
  ASSERT_TRUE(containerd_->stop());
  contd_ = SystemdStyleContd::start(contdOptions());
  ASSERT_TRUE(contd_);
  EXPECT_FALSE(notify_->waitFor("READY=1", 4s)) << contd_->logText();
  EXPECT_FALSE(notify_->waitFor("WATCHDOG=1", 100ms));
  // A stop signal while waiting is a clean exit.
  EXPECT_EQ(contd_->stop(SIGTERM), 0) << contd_->logText();
  contd_.reset();
}

TEST_F(SystemdIT, ServesTheApiOnThePassedSocket) {
  const std::string activated = (dir_->path() / "activated.sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  const sockaddr_un addr = unixAddress(activated);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  auto options = contdOptions();
  options.listen_fd = fd;
  contd_ = SystemdStyleContd::start(options);
  ::close(fd);  // the child holds it now
  ASSERT_TRUE(contd_);
  ASSERT_TRUE(notify_->waitFor("READY=1", 20s)) << contd_->logText();
  EXPECT_TRUE(apiAnswers(activated)) << contd_->logText();
  // The configured path was not bound.
  EXPECT_FALSE(fs::exists(apiSocket()));
  EXPECT_EQ(contd_->stop(SIGTERM), 0) << contd_->logText();
  contd_.reset();
}

TEST_F(SystemdIT, LogLinesCarrySyslogPrioritiesForJournald) {
  auto options = contdOptions();
  // JOURNAL_STREAM names stderr's device and inode, as systemd sets it for the journal.
  std::ofstream(options.log).flush();
  struct stat st {};
  ASSERT_EQ(::stat(options.log.c_str(), &st), 0);
  options.env.push_back("JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" +
                        std::to_string(st.st_ino));
  contd_ = SystemdStyleContd::start(options);
  ASSERT_TRUE(contd_);
  ASSERT_TRUE(notify_->waitFor("READY=1", 20s)) << contd_->logText();
  EXPECT_EQ(contd_->stop(SIGTERM), 0);
  const std::string log = contd_->logText();
  EXPECT_NE(log.find("<6>info [contd] ready"), std::string::npos) << log;
  EXPECT_EQ(log.rfind("<6>", 0), 0u) << log;
  contd_.reset();
}

}  // namespace
}  // namespace contd::testing
