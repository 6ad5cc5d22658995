#pragma once
// The daemon's life cycle, apart from its wiring: termination and reload signals, systemd
// notification (READY, STATUS, WATCHDOG, STOPPING), and the wait for containerd at start.
//
// Threads: everything here is for the main thread, except SystemdNotifier, which runs a
// thread of its own.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "modules/common/result.h"
#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "modules/daemon/config.h"

namespace contd::daemon {

// SIGTERM, SIGINT and SIGHUP are blocked and taken synchronously with sigtimedwait(), so no
// signal handler ever runs daemon code. Construct it first thing in main(), before any
// thread exists: threads inherit the signal mask, so none of them can catch the signal
// instead. Also ignores SIGPIPE (a peer closing its socket must not kill the daemon).
class TerminationSignals {
public:
  TerminationSignals();
  TerminationSignals(const TerminationSignals&) = delete;
  TerminationSignals& operator=(const TerminationSignals&) = delete;

  // The signal number once one arrives within `timeout`, else nullopt.
  std::optional<int> waitFor(std::chrono::milliseconds timeout);
};

// Opens the containerd client. The first attempt starts at once with a short timeout;
// while containerd does not answer, attempts repeat with a growing pause (0.25 s doubling
// up to 5 s), each failure logged. Errors: kUnavailable "interrupted by <signal>" when a
// termination signal arrives meanwhile (the caller exits cleanly); kInvalidArgument from
// the client for a bad path (not retried).
Result<std::unique_ptr<containerd::GrpcClient>> connectContainerd(const std::string& socket_path,
                                                                  TerminationSignals& signals);

// Until containerd answers a call (list namespaces) on `client`, with the same pauses and
// logging as connectContainerd: containerd may die and come back while contd starts.
// Errors: kUnavailable "interrupted by <signal>" as connectContainerd; any error of the call
// other than kUnavailable and kDeadlineExceeded.
Status waitUntilContainerdAnswers(containerd::Client& client, TerminationSignals& signals);

// systemd integration; every function does nothing when not started by systemd.
// The listening socket systemd passed (socket activation), if exactly one.
std::optional<int> systemdListenFd();
// sd_notify() with `state` ("READY=1\nSTATUS=...", "STOPPING=1").
void notifySystemd(const std::string& state);
// Half of $WATCHDOG_USEC (sd_watchdog_enabled(3)) when systemd expects watchdog pings from
// this process, else nullopt.
std::optional<std::chrono::milliseconds> watchdogPeriod();

// Sends STATUS= and WATCHDOG=1 from a thread of its own.
//
// A ping is not a blind timer: every period (half of WATCHDOG_USEC) the thread probes
// containerd (a cheap call such as listNamespaces), and pings only when that probe succeeded
// and the main loop has ticked (loopTicked()) within the last WATCHDOG_USEC. So systemd
// restarts contd when its signal loop hangs or containerd stops answering (containers keep
// running: they belong to containerd's shims). STATUS= is refreshed every status_interval,
// and at once when the probe's outcome changes.
class SystemdNotifier {
public:
  struct Options {
    std::optional<std::chrono::milliseconds> watchdog_period;  // nullopt: no pings
    std::chrono::milliseconds status_interval{10'000};
  };
  // probe: OK when containerd answers. status: the live summary for STATUS=.
  // Both are called from the notifier's thread only.
  SystemdNotifier(Options options, std::function<Status()> probe,
                  std::function<std::string()> status);
  ~SystemdNotifier();  // stop()
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  void start();
  // Joins the thread; idempotent.
  void stop();
  // The main loop calls this every round; any thread.
  void loopTicked();
  // How long the main loop may wait between two ticks so that pings continue.
  std::chrono::milliseconds tickInterval() const;

private:
  void run();
  bool loopAlive(std::chrono::steady_clock::time_point now) const;

  Options options_;
  std::function<Status()> probe_;
  std::function<std::string()> status_;
  std::atomic<std::int64_t> last_tick_ns_{0};  // steady_clock
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

// The default seccomp profile of config key seccomp_profile, checked with libseccomp; names
// it does not know on this architecture are logged (warn) and left out. nullopt for "" (a
// warning: containers then run unfiltered unless they name a profile). Errors: those of
// seccomp::loadProfile (kInvalidArgument naming the file): contd must not start then.
Result<std::optional<nlohmann::json>> loadSeccompProfile(const std::string& path);

// STATUS= text: "3 containers running in 2 namespaces (5 managed)".
std::string statusSummary(container::ContainerService& service);

// SIGHUP: reads the config again as at start (the --config file, then the flags) and
// applies what can change in a running daemon: log_level here, then `apply` for the rest
// that can (the daemon passes the restart policy and the container defaults on). Other keys
// that changed are logged as needing a restart. A bad file is logged and the running config
// kept. The API keeps serving meanwhile.
void reloadConfig(const Flags& flags, Config& running,
                  const std::function<void(const Config&)>& apply);

enum class SignalEvent { kTerminate, kReload };

// Blocks until SIGTERM/SIGINT (kTerminate, with the signal number) or SIGHUP (kReload),
// calling notifier.loopTicked() at least every notifier.tickInterval() meanwhile.
std::pair<SignalEvent, int> waitForSignal(TerminationSignals& signals, SystemdNotifier& notifier);

}  // namespace contd::daemon
