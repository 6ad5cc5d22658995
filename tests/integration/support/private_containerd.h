#pragma once
// A containerd of the test's own, in a fresh temp dir, never the system's:
//
//   <temp dir>/                     e.g. /tmp/contd-containerd-Ab12Cd
//   ├── config.toml                 written by start(); the CRI plugin is disabled
//   ├── containerd.sock             gRPC (socketPath())
//   ├── containerd.sock.ttrpc       for shims
//   ├── containerd.log              containerd's stdout and stderr (logTail())
//   ├── root/  state/  opt/         containerd's root, state and opt plugin dirs
//
// containerd 1.6 still keeps shim sockets and runc state under /run/containerd/{s,runc},
// whatever the config says, so two private containerds share those folders: give every
// test its own containerd namespace (uniqueName) and purge it afterwards
// (containerd_cleanup.h). When the tests created /run/containerd, the last private
// containerd on the host removes it again (only empty folders, and never when a system
// containerd owns it). Every private containerd holds a shared flock on /run/containerd
// while it lives, so "last" holds across test processes running in parallel. A containerd
// outside the tests that starts using /run/containerd meanwhile is not covered by that lock
// (its shim could lose the microseconds between its MkdirAll and bind): do not run the
// integration tests next to an unrelated containerd that was started after them.
//
// Only the process start() made is ever signalled, by its pid. It is started with
// PR_SET_PDEATHSIG=SIGTERM, so a crashed test does not leave it running: start it from
// a thread that lives as long as it should (the test's main thread).
//
// Threading: one owner; the socket may be used from any thread.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "modules/common/result.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::testing {

class PrivateContainerd {
public:
  struct Options {
    std::chrono::milliseconds start_timeout{10'000};  // until the socket answers
    std::chrono::milliseconds stop_timeout{10'000};   // SIGTERM, then SIGKILL
  };

  // Creates the temp dir, writes the config and starts containerd (found on PATH), then
  // waits until its socket accepts connections. Errors: kNotFound without containerd on
  // PATH; kUnavailable when it exits early or does not answer in time (the message ends
  // with the tail of its log); kInternal for file and process errors.
  static Result<std::unique_ptr<PrivateContainerd>> start();
  static Result<std::unique_ptr<PrivateContainerd>> start(Options options);

  // stop(), then removes the temp dir (unless something is still mounted in it). Failures
  // are reported on stderr.
  ~PrivateContainerd();
  PrivateContainerd(const PrivateContainerd&) = delete;
  PrivateContainerd& operator=(const PrivateContainerd&) = delete;

  const std::string& socketPath() const { return socket_path_; }
  std::string dir() const { return dir_.string(); }
  std::string logPath() const;
  // The last `max_bytes` of containerd's output, for failure messages.
  std::string logTail(std::size_t max_bytes = 4096) const;
  // containerd's pid while it runs, else 0.
  pid_t pid() const { return pid_; }

  // SIGTERM, SIGKILL after Options::stop_timeout, and reaps it. Tasks and their shims keep
  // running (that is containerd's design). Idempotent.
  Status stop();
  // SIGKILL at once, like `kill -9`: for tests of what survives a containerd crash.
  Status crash();
  // Starts containerd again on the same dirs and socket after stop() or crash().
  Status restart();

private:
  PrivateContainerd(TempDir dir, Options options);

  Status launch();

  TempDir dir_;
  Options options_;
  std::string socket_path_;
  pid_t pid_ = 0;
  int run_dir_lock_ = -1;  // shared flock on /run/containerd, see above
};

}  // namespace contd::testing
