#pragma once
// An interactive exec (ExecStream, docs/api.md): a process added to a running container
// whose stdin, stdout and stderr are streamed while it runs, optionally on a terminal.
//
// Plumbing: three fifos next to the container's log (as for the bounded Exec,
// exec_capture.h); the runc shim copies the process's output into the out/err fifos (on a
// terminal, everything into out) and the in fifo into its stdin. contd holds a writer of
// the in fifo opened before the exec, so writes never block on the shim's open.
//
// Threads: one thread calls pump() until it returns; any other one thread may call the
// input methods (writeStdin, closeStdin, resize, signal) meanwhile; cancel() from any
// thread. A waiter thread of the session waits for the exit. The destructor kills a
// process still running (SIGKILL), deletes it from containerd and removes the fifos.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/common/result.h"
#include "modules/common/unique_fd.h"
#include "modules/containerd/client.h"

namespace contd::container {

struct ExecStreamOptions {
  std::vector<std::string> argv;
  bool tty = false;
  bool stdin = false;
  std::uint32_t width = 0;  // initial terminal size, with tty; 0: the runtime's default
  std::uint32_t height = 0;
  std::chrono::milliseconds timeout{0};  // 0: no limit
};

// argv as for Exec (validateExecArgv), timeout at most kMaxExecTimeout, the terminal size
// 0 or 1..65535 each. Errors name the field ("argv[1]", "timeout_ms", "size").
Status validateExecStream(const ExecStreamOptions& options);

enum class ExecOutput { kStdout, kStderr };

struct ExecExit {
  std::int32_t exit_code = -1;  // 128+N for signal N; -1 when containerd lost the process
  bool timed_out = false;
};

// A shell's exit code for an exec the runtime refused to start: 127 when the program was
// not found, 126 when it is not executable (permission denied, a directory, a bad
// format); nothing for other errors. Reads runc's and crun's messages.
std::optional<std::int32_t> shellCodeForStartFailure(const Error& error);

class ExecSession {
public:
  // Returns false when the reader of the output is gone (the process is then killed).
  using OutputSink = std::function<bool(ExecOutput, std::string_view)>;

  // Adds the process (the container's `container_process` settings with the options' argv)
  // and starts it. Errors: those of containerd's Exec and Start (the exec is deleted).
  static Result<std::unique_ptr<ExecSession>> start(containerd::Client& client,
                                                    std::string_view ns, std::string_view id,
                                                    nlohmann::json container_process,
                                                    const ExecStreamOptions& options,
                                                    const std::filesystem::path& fifo_dir,
                                                    std::string exec_id);
  ~ExecSession();
  ExecSession(const ExecSession&) = delete;
  ExecSession& operator=(const ExecSession&) = delete;

  // Hands output to `sink` as it comes, until the process exited and its output ended
  // (or, when something else keeps the output open, 2 s after the exit).
  ExecExit pump(const OutputSink& sink);

  // Writes all of `data` to stdin; blocks while the process does not read. kFailedPrecondition
  // without stdin or after closeStdin; kCancelled when the session ended meanwhile.
  Status writeStdin(std::string_view data);
  Status closeStdin();
  Status resize(std::uint32_t width, std::uint32_t height);
  Status signal(int signal);
  // Kills the process (SIGKILL): its caller is gone.
  void cancel();

  const std::string& execId() const { return exec_id_; }

private:
  ExecSession(containerd::Client& client, std::string ns, std::string id, std::string exec_id);
  Status openFifos(const std::filesystem::path& dir, bool with_stdin, bool tty);
  void waitForExit(std::chrono::milliseconds timeout);
  bool drain(int index, const OutputSink& sink);
  void markEnded();

  containerd::Client& client_;
  const std::string ns_;
  const std::string id_;
  const std::string exec_id_;
  std::vector<std::filesystem::path> fifos_;
  UniqueFd out_[2];     // readers of the stdout and stderr fifos
  UniqueFd hold_[2];    // writers held until the shim opened its own
  UniqueFd in_;         // writer of the stdin fifo
  std::mutex in_mu_;
  UniqueFd exited_fd_;  // eventfd: the waiter saw the exit
  UniqueFd ended_fd_;   // eventfd: pump returned, stdin writers give up
  bool tty_ = false;
  std::atomic<bool> started_{false};
  std::atomic<bool> exited_{false};    // the waiter is done
  std::atomic<bool> stopping_{false};  // the destructor runs: the waiter stops retrying
  std::atomic<bool> timed_out_{false};
  std::atomic<bool> output_gone_{false};
  ExecExit exit_;       // written by the waiter before exited_fd_ fires
  std::thread waiter_;
};

}  // namespace contd::container
