// ContainerService's exec calls (service.h): the bounded Exec and the streaming one, both
// from the process of the container's stored spec.

#include "modules/container/service.h"
#include "modules/container/stored_spec.h"
#include "modules/container/validation.h"

namespace contd::container {

using containerd::TaskStatus;

Result<nlohmann::json> ContainerService::execProcessSpec(std::string_view ns,
                                                        std::string_view id) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  auto task = tasks_.state(ns, id);
  if (!task || !*task || (*task)->status != TaskStatus::kRunning) {
    return failedPrecondition("exec in '" + std::string(id) + "': the container does not run");
  }
  auto stored = readStoredSpec(*record);
  if (!stored) {
    return stored.error().wrap("exec in '" + std::string(id) + "'");
  }
  auto process = stored->runtime.find("process");
  if (process == stored->runtime.end() || !process->is_object()) {
    return internalError("exec in '" + std::string(id) + "': the stored spec has no process");
  }
  return *process;
}

Result<ExecResult> ContainerService::exec(std::string_view ns, std::string_view id,
                                          const std::vector<std::string>& argv,
                                          std::chrono::milliseconds timeout,
                                          const ExecOptions& exec_options) {
  CONTD_RETURN_IF_ERROR(validateExecArgv(argv));
  if (timeout.count() <= 0 || timeout > kMaxExecTimeout) {
    return invalidArgument("timeout: between 1 ms and " + std::to_string(kMaxExecTimeout.count()) +
                           " ms, got " + std::to_string(timeout.count()) + " ms");
  }
  auto process = execProcessSpec(ns, id);
  if (!process) {
    return process.error();
  }
  return exec_.run(ns, id, std::move(*process), argv, timeout, logs_.path(ns, id).parent_path(),
                   exec_options);
}

Result<std::unique_ptr<ExecSession>> ContainerService::startExec(
    std::string_view ns, std::string_view id, const ExecStreamOptions& options) {
  CONTD_RETURN_IF_ERROR(validateExecStream(options));
  auto process = execProcessSpec(ns, id);
  if (!process) {
    return process.error();
  }
  return ExecSession::start(client_, ns, id, std::move(*process), options,
                            logs_.path(ns, id).parent_path(), exec_.newExecId());
}

}  // namespace contd::container
