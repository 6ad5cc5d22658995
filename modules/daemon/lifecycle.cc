#include "modules/daemon/lifecycle.h"

#include <signal.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "modules/common/logging.h"

namespace contd::daemon {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstAttemptTimeout{1000};
constexpr milliseconds kAttemptTimeout{2000};
constexpr milliseconds kFirstPause{250};
constexpr milliseconds kMaxPause{5000};

sigset_t terminationSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

TerminationSignals::TerminationSignals() {
  const sigset_t set = terminationSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

std::optional<int> TerminationSignals::waitFor(milliseconds timeout) {
  const sigset_t set = terminationSet();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec ts{};
  ts.tv_sec = secs.count();
  ts.tv_nsec = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout - secs).count();
  for (;;) {
    const int sig = ::sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) {
      return sig;
    }
    // EINTR: another signal (e.g. SIGCHLD) woke us; the time already waited is lost, which
    // only lengthens a backoff pause a little.
    if (errno != EINTR) {
      return std::nullopt;
    }
  }
}

Result<std::unique_ptr<containerd::GrpcClient>> connectContainerd(const std::string& socket_path,
                                                                  TerminationSignals& signals) {
  const auto log = log::contd();
  milliseconds pause = kFirstPause;
  for (int attempt = 1;; ++attempt) {
    auto client = containerd::GrpcClient::connect(
        socket_path, attempt == 1 ? kFirstAttemptTimeout : kAttemptTimeout);
    if (client) {
      if (attempt > 1) {
        log->info("containerd reachable socket={} attempts={}", socket_path, attempt);
      }
      return client;
    }
    if (client.error().code != Code::kUnavailable &&
        client.error().code != Code::kDeadlineExceeded) {
      return client.error();
    }
    log->warn("containerd unreachable socket={} attempt={} retry_in_ms={} error=\"{}\"",
              socket_path, attempt, pause.count(), client.error().message);
    if (auto sig = signals.waitFor(pause)) {
      return unavailable("waiting for containerd: interrupted by " +
                         std::string(::strsignal(*sig)));
    }
    pause = std::min(pause * 2, kMaxPause);
  }
}

std::optional<int> systemdListenFd() {
  // unset_environment=1: children (none today) must not believe the fds are theirs.
  const int count = ::sd_listen_fds(1);
  if (count == 1) {
    return SD_LISTEN_FDS_START;
  }
  if (count > 1) {
    log::contd()->warn("systemd passed {} sockets, expected 1: binding the listen path", count);
  }
  return std::nullopt;
}

void notifySystemd(const std::string& state) { (void)::sd_notify(0, state.c_str()); }

int waitForTermination(TerminationSignals& signals) {
  std::uint64_t watchdog_usec = 0;
  const bool watchdog = ::sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  // Half the interval, as sd_watchdog_enabled(3) advises; a day when there is no watchdog.
  const milliseconds period = watchdog
                                  ? std::max(milliseconds(watchdog_usec / 2000), milliseconds(50))
                                  : milliseconds(24LL * 3600 * 1000);
  for (;;) {
    if (auto sig = signals.waitFor(period)) {
      return *sig;
    }
    if (watchdog) {
      notifySystemd("WATCHDOG=1");
    }
  }
}

}  // namespace contd::daemon
