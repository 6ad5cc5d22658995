#include "modules/container/exec_runner.h"

#include <signal.h>
#include <unistd.h>

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
                                   const std::filesystem::path& fifo_dir) {
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
  auto exit = client_.waitProcess(ns, id, exec_id, timeout);
  if (!exit && exit.error().code == Code::kDeadlineExceeded) {
    result.timed_out = true;
    (void)client_.killProcess(ns, id, exec_id, SIGKILL);
    exit = client_.waitProcess(ns, id, exec_id, kill_grace_);
  }
  if (exit) {
    result.exit_code = static_cast<std::int32_t>(exit->code);
  }
  (void)client_.deleteProcess(ns, id, exec_id);
  result.output = (*capture)->finish(std::chrono::seconds(2), &result.truncated);
  if (!exit) {
    return exit.error().wrap("exec in '" + std::string(id) + "': wait");
  }
  log::container()->info("exec ns={} id={} exec_id={} code={} timed_out={}", ns, id, exec_id,
                         result.exit_code, result.timed_out);
  return result;
}

}  // namespace contd::container
