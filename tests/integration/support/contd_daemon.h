#pragma once
// A contd daemon of the test's own: the real binary, started on a private containerd with
// its API socket and log root in a directory the test owns.
//
// Only the process start() made is ever signalled, by its pid; it gets PR_SET_PDEATHSIG so
// a crashed test leaves no daemon behind. Threading: one owner.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "modules/common/result.h"

namespace contd::testing {

class ContdDaemon {
public:
  struct Options {
    std::string binary;             // path of the contd executable
    std::string containerd_socket;  // the private containerd's socket
    std::filesystem::path dir;      // holds contd.sock, logs/ and contd.log
    std::vector<std::string> extra_args;
    std::chrono::milliseconds start_timeout{10'000};
  };

  // Starts contd and waits until its socket accepts connections. Errors: kUnavailable
  // when it exits early or does not listen in time (the message ends with its log tail).
  static Result<std::unique_ptr<ContdDaemon>> start(Options options);

  // stop() when still running.
  ~ContdDaemon();
  ContdDaemon(const ContdDaemon&) = delete;
  ContdDaemon& operator=(const ContdDaemon&) = delete;

  std::string socketPath() const { return (options_.dir / "contd.sock").string(); }
  std::filesystem::path logRoot() const { return options_.dir / "logs"; }
  std::string logTail(std::size_t max_bytes = 4096) const;
  // The lines of contd's log that contain `text` (e.g. "id=web "), the last 200 at most.
  std::string logLines(std::string_view text) const;
  pid_t pid() const { return pid_; }

  // SIGTERM and wait for the exit; returns the exit status (128+signal when signalled).
  Result<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGKILL, like `kill -9`.
  Status crash();
  // Starts it again with the same options after stop() or crash().
  Status restart();

private:
  explicit ContdDaemon(Options options) : options_(std::move(options)) {}
  Status launch();

  Options options_;
  pid_t pid_ = -1;
};

}  // namespace contd::testing
