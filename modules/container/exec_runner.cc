#include "modules/container/exec_runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "modules/common/logging.h"
#include "modules/container/exec_capture.h"
#include "modules/container/exec_session.h"

namespace contd::container {

std::string ExecRunner::newExecId() {
  return "exec-" + std::to_string(::getpid()) + "-" + std::to_string(counter_.fetch_add(1) + 1);
}

Result<ExecResult> ExecRunner::run(std::string_view ns, std::string_view id,
                                   nlohmann::json container_process,
                                   const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout,
                                   const std::filesystem::path& fifo_dir,
                                   const ExecOptions& options) {
  container_process["args"] = argv;
  container_process["terminal"] = false;
  const std::string exec_id = newExecId();
  // Container names cannot start with '.', so the fifos collide with no log file.
  auto capture =
      OutputCapture::start(fifo_dir, "." + std::string(id) + "." + exec_id, kExecOutputLimit);
  if (!capture) {
    return capture.error().wrap("exec in '" + std::string(id) + "'");
  }
  containerd::ExecRequest request{.exec_id = exec_id,
                                  .process_spec_json = container_process.dump(),
                                  .stdout_uri = (*capture)->stdoutPath(),
                                  .stderr_uri = (*capture)->stderrPath()};
  CONTD_RETURN_IF_ERROR(client_.execProcess(ns, id, request));
  ExecResult result;
  if (auto started = client_.startProcess(ns, id, exec_id); !started) {
    (void)client_.deleteProcess(ns, id, exec_id);
    // A program that cannot be run ends like in a shell: 127 or 126, the reason as output.
    if (auto code = shellCodeForStartFailure(started.error())) {
      result.exit_code = *code;
      result.output = started.error().message + "\n";
      return result;
    }
    return started.error().wrap("exec in '" + std::string(id) + "'");
  }
  bool cancelled = false;
  auto exit = waitForExit(ns, id, exec_id, timeout, options, result, cancelled);
  if (exit) {
    result.exit_code = static_cast<std::int32_t>(exit->code);
  }
  (void)client_.deleteProcess(ns, id, exec_id);
  result.output = (*capture)->finish(std::chrono::seconds(2), &result.truncated);
  if (cancelled) {
    return Error{Code::kCancelled, "exec in '" + std::string(id) + "' cancelled"};
  }
  if (!exit) {
    return exit.error().wrap("exec in '" + std::string(id) + "': wait");
  }
  log::container()->log(options.quiet ? spdlog::level::debug : spdlog::level::info,
                        "exec ns={} id={} exec_id={} code={} timed_out={}", ns, id, exec_id,
                        result.exit_code, result.timed_out);
  return result;
}

Result<containerd::ExitStatus> ExecRunner::waitForExit(std::string_view ns, std::string_view id,
                                                       const std::string& exec_id,
                                                       std::chrono::milliseconds timeout,
                                                       const ExecOptions& options,
                                                       ExecResult& result, bool& cancelled) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    // In slices only when someone may cancel: a single wait otherwise.
    const auto slice = options.cancelled ? std::min(left, kExecCancelPoll) : left;
    auto exit =
        client_.waitProcess(ns, id, exec_id, std::max(slice, std::chrono::milliseconds(1)));
    if (exit || exit.error().code != Code::kDeadlineExceeded) {
      return exit;
    }
    if (!options.cancelled || Clock::now() >= deadline) {
      result.timed_out = true;
      break;
    }
    if (options.cancelled()) {
      cancelled = true;
      break;
    }
  }
  (void)client_.killProcess(ns, id, exec_id, SIGKILL);
  return client_.waitProcess(ns, id, exec_id, kill_grace_);
}

}  // namespace contd::container
