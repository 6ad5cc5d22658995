#include "modules/daemon/lifecycle.h"

#include <signal.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <set>

#include "modules/common/logging.h"
#include "modules/seccomp/profile.h"

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
  sigaddset(&set, SIGHUP);
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

namespace {

bool containerdAway(const Error& error) {
  return error.code == Code::kUnavailable || error.code == Code::kDeadlineExceeded;
}

// Calls `attempt` (given its number, from 1) until it succeeds or fails other than with
// containerd away; between tries a pause of 0.25 s doubling up to 5 s, each failure logged
// as "<what> attempt=N retry_in_ms=M error=...". A termination signal meanwhile ends it with
// kUnavailable "waiting for containerd: interrupted by <signal>"; SIGHUP only cuts the pause.
template <typename T>
Result<T> whileContainerdAway(std::string_view what, TerminationSignals& signals,
                              const std::function<Result<T>(int)>& attempt) {
  const auto log = log::contd();
  milliseconds pause = kFirstPause;
  for (int n = 1;; ++n) {
    auto result = attempt(n);
    if (result || !containerdAway(result.error())) {
      return result;
    }
    log->warn("{} attempt={} retry_in_ms={} error=\"{}\"", what, n, pause.count(),
              result.error().message);
    if (auto sig = signals.waitFor(pause)) {
      if (*sig == SIGHUP) {
        log->info("reload ignored while waiting for containerd: the config is read at start");
        continue;
      }
      return unavailable("waiting for containerd: interrupted by " +
                         std::string(::strsignal(*sig)));
    }
    pause = std::min(pause * 2, kMaxPause);
  }
}

}  // namespace

Result<std::unique_ptr<containerd::GrpcClient>> connectContainerd(const std::string& socket_path,
                                                                  TerminationSignals& signals) {
  using Client = std::unique_ptr<containerd::GrpcClient>;
  int attempts = 0;
  auto client = whileContainerdAway<Client>(
      "containerd unreachable socket=" + socket_path, signals, [&](int n) -> Result<Client> {
        attempts = n;
        return containerd::GrpcClient::connect(socket_path,
                                               n == 1 ? kFirstAttemptTimeout : kAttemptTimeout);
      });
  if (client && attempts > 1) {
    log::contd()->info("containerd reachable socket={} attempts={}", socket_path, attempts);
  }
  return client;
}

Status waitUntilContainerdAnswers(containerd::Client& client, TerminationSignals& signals) {
  auto answered = whileContainerdAway<Ok>("containerd does not answer", signals,
                                          [&](int) -> Result<Ok> {
                                            auto namespaces = client.listNamespaces();
                                            return namespaces ? Result<Ok>(Ok{})
                                                              : Result<Ok>(namespaces.error());
                                          });
  if (!answered && answered.error().code != Code::kUnavailable) {
    return answered.error().wrap("containerd does not answer");
  }
  return answered;
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

std::optional<milliseconds> watchdogPeriod() {
  std::uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return std::nullopt;
  }
  // Half the interval, as sd_watchdog_enabled(3) advises.
  return std::max(milliseconds(usec / 2000), milliseconds(20));
}

SystemdNotifier::SystemdNotifier(Options options, std::function<Status()> probe,
                                 std::function<std::string()> status)
    : options_(options), probe_(std::move(probe)), status_(std::move(status)) {
  loopTicked();
}

SystemdNotifier::~SystemdNotifier() { stop(); }

void SystemdNotifier::start() {
  thread_ = std::thread([this] { run(); });
}

void SystemdNotifier::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void SystemdNotifier::loopTicked() {
  last_tick_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count(),
                      std::memory_order_relaxed);
}

milliseconds SystemdNotifier::tickInterval() const {
  // Well inside the WATCHDOG_USEC (two periods) a tick may be apart.
  constexpr milliseconds kIdleTick{1000};
  return options_.watchdog_period ? std::min(*options_.watchdog_period / 2, kIdleTick) : kIdleTick;
}

bool SystemdNotifier::loopAlive(std::chrono::steady_clock::time_point now) const {
  const auto last = std::chrono::steady_clock::time_point(
      std::chrono::nanoseconds(last_tick_ns_.load(std::memory_order_relaxed)));
  return now - last < 2 * *options_.watchdog_period;
}

void SystemdNotifier::run() {
  const auto log = log::contd();
  const milliseconds period = options_.watchdog_period
                                  ? std::min(*options_.watchdog_period, options_.status_interval)
                                  : options_.status_interval;
  auto next_status = std::chrono::steady_clock::now();
  std::optional<bool> was_healthy;
  std::string last_problem;
  for (;;) {
    const Status probed = probe_();
    const auto now = std::chrono::steady_clock::now();
    const bool loop_alive = !options_.watchdog_period || loopAlive(now);
    const bool healthy = probed.ok() && loop_alive;
    const std::string problem = !probed.ok() ? "containerd probe failed: " + probed.error().message
                                : !loop_alive ? "main loop has not ticked"
                                              : "";
    if (was_healthy != healthy || (!healthy && problem != last_problem)) {
      if (healthy) {
        if (was_healthy.has_value()) {
          log->info("healthy again: containerd answers and the main loop runs");
        }
      } else {
        log->warn("unhealthy: {}{}", problem,
                  options_.watchdog_period ? "; withholding watchdog pings" : "");
      }
    }
    if (healthy && options_.watchdog_period) {
      notifySystemd("WATCHDOG=1");
    }
    if (now >= next_status || was_healthy != healthy) {
      notifySystemd("STATUS=" + (healthy ? status_() : problem));
      next_status = now + options_.status_interval;
    }
    was_healthy = healthy;
    last_problem = problem;

    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, period, [this] { return stopping_; })) {
      return;
    }
  }
}

Result<std::optional<nlohmann::json>> loadSeccompProfile(const std::string& path) {
  const auto log = log::contd();
  if (path == kSeccompUnconfined) {
    log->warn("seccomp_profile is \"unconfined\": containers run without a syscall filter "
              "unless they name a profile");
    return std::optional<nlohmann::json>();
  }
  auto profile = path == kSeccompBuiltin ? seccomp::builtinProfile() : seccomp::loadProfile(path);
  if (!profile) {
    return profile.error();
  }
  if (!profile->unknown_names.empty()) {
    log->warn("seccomp profile={} arch={}: {} syscall names unknown to libseccomp left out: {}",
              path, seccomp::nativeArchitecture(), profile->unknown_names.size(),
              nlohmann::json(profile->unknown_names).dump());
  }
  log->info("seccomp profile={} arch={} rules={} names={}", path, seccomp::nativeArchitecture(),
            profile->json["syscalls"].size(), profile->syscall_names);
  return std::optional<nlohmann::json>(std::move(profile->json));
}

std::string statusSummary(container::ContainerService& service) {
  auto containers = service.list("");
  if (!containers) {
    return "listing containers failed: " + containers.error().message;
  }
  std::size_t running = 0;
  std::set<std::string> namespaces;
  for (const auto& info : *containers) {
    namespaces.insert(info.ns);
    running += info.status == container::ContainerStatus::kRunning ? 1 : 0;
  }
  return std::to_string(running) + " containers running in " + std::to_string(namespaces.size()) +
         " namespaces (" + std::to_string(containers->size()) + " managed)";
}

void reloadConfig(const Flags& flags, Config& running,
                  const std::function<void(const Config&)>& apply) {
  const auto log = log::contd();
  auto fresh = resolveConfig(flags);
  if (!fresh) {
    log->error("reload failed, keeping the running config: {}", fresh.error().message);
    return;
  }
  if (fresh->log_level != running.log_level) {
    log::init(fresh->log_level);
    log->info("reload log_level={} (was {})", fresh->log_level, running.log_level);
    running.log_level = fresh->log_level;
  }
  apply(*fresh);
  running.default_shutdown_timeout_ms = fresh->default_shutdown_timeout_ms;
  running.default_pids_limit = fresh->default_pids_limit;
  running.restart_initial_delay_ms = fresh->restart_initial_delay_ms;
  running.restart_max_delay_ms = fresh->restart_max_delay_ms;
  running.restart_max_failures = fresh->restart_max_failures;
  running.restart_window_ms = fresh->restart_window_ms;
  running.runtime = fresh->runtime;  // for containers Run from now on
  running.shim_group = fresh->shim_group;
  running.seccomp_precompile = fresh->seccomp_precompile;
  running.shim_keepalive_ms = fresh->shim_keepalive_ms;
  running.log_retention_ms = fresh->log_retention_ms;
  running.log_retention_size = fresh->log_retention_size;
  // The rest is read once at start, by the objects it configures.
  if (*fresh != running) {
    log->warn("reload: changed settings other than the log level, restart policy, "
              "container defaults, runtime, shim group, seccomp precompilation, keepalive and "
              "log retention take effect after a restart of "
              "contd (containers keep running across it)");
  } else {
    log->info("reload done");
  }
}

std::pair<SignalEvent, int> waitForSignal(TerminationSignals& signals, SystemdNotifier& notifier) {
  for (;;) {
    notifier.loopTicked();
    if (auto sig = signals.waitFor(notifier.tickInterval())) {
      return {*sig == SIGHUP ? SignalEvent::kReload : SignalEvent::kTerminate, *sig};
    }
  }
}

}  // namespace contd::daemon
