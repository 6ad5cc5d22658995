#pragma once
// The daemon's life cycle, apart from its wiring: termination signals, systemd
// notification, and the wait for containerd at start.
//
// Threads: everything here is for the main thread.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "modules/common/result.h"
#include "modules/containerd/grpc_client.h"

namespace contd::daemon {

// SIGTERM and SIGINT are blocked and taken synchronously with sigtimedwait(), so no
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

// systemd integration; every function does nothing when not started by systemd.
// The listening socket systemd passed (socket activation), if exactly one.
std::optional<int> systemdListenFd();
// sd_notify() with `state` ("READY=1\nSTATUS=...", "STOPPING=1").
void notifySystemd(const std::string& state);
// Blocks until SIGTERM/SIGINT and returns its number, pinging systemd's watchdog meanwhile
// when the unit has WatchdogSec set.
int waitForTermination(TerminationSignals& signals);

}  // namespace contd::daemon
