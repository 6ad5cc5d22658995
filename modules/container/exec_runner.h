#pragma once
// One exec'd process in a running container, from start to removal: the process gets the
// container's own process settings (env, cwd, user, capabilities, rlimits,
// noNewPrivileges) with a new argv, its output is captured through fifos next to the
// container's log (exec_capture.h), it is killed when it outlives its timeout, and it is
// always deleted from containerd afterwards.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/common/result.h"
#include "modules/containerd/client.h"

namespace contd::container {

struct ExecResult {
  std::int32_t exit_code = -1;  // 128+N when killed by signal N
  bool timed_out = false;       // killed because it outlived its timeout
  std::string output;           // stdout and stderr together, the last kExecOutputLimit bytes
  bool truncated = false;       // the output was longer than that
};

inline constexpr std::size_t kExecOutputLimit = 64 * 1024;

// How an exec runs besides its command.
struct ExecOptions {
  // Asked every kExecCancelPoll while the process runs: true kills it (SIGKILL) and the run
  // fails with kCancelled. Empty: it runs until it exits or times out.
  std::function<bool()> cancelled;
  // Logged at debug rather than info (health checks run periodically).
  bool quiet = false;
};

inline constexpr std::chrono::milliseconds kExecCancelPoll{500};

class ExecRunner {
public:
  // `kill_grace`: how long to wait for the exit after SIGKILL of a process that timed out.
  ExecRunner(containerd::Client& client, std::chrono::milliseconds kill_grace)
      : client_(client), kill_grace_(kill_grace) {}

  // `container_process` is the "process" object of the container's OCI spec; `fifo_dir`
  // holds the capture fifos (the folder of the container's log).
  Result<ExecResult> run(std::string_view ns, std::string_view id,
                         nlohmann::json container_process, const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout, const std::filesystem::path& fifo_dir,
                         const ExecOptions& options = {});

  // A new exec id, unique in this process ("exec-<pid>-<n>").
  std::string newExecId();

private:
  // Waits for the exit: up to `timeout` (then result.timed_out), asking options.cancelled
  // meanwhile (then *cancelled); either way the process is SIGKILLed and waited for.
  Result<containerd::ExitStatus> waitForExit(std::string_view ns, std::string_view id,
                                             const std::string& exec_id,
                                             std::chrono::milliseconds timeout,
                                             const ExecOptions& options, ExecResult& result,
                                             bool& cancelled);

  containerd::Client& client_;
  std::chrono::milliseconds kill_grace_;
  std::atomic<std::uint64_t> counter_{0};
};

}  // namespace contd::container
