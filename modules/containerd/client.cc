#include "modules/containerd/client.h"

namespace contd::containerd {

std::string_view taskStatusName(TaskStatus status) {
  switch (status) {
    case TaskStatus::kUnknown: return "unknown";
    case TaskStatus::kCreated: return "created";
    case TaskStatus::kRunning: return "running";
    case TaskStatus::kStopped: return "stopped";
    case TaskStatus::kPaused: return "paused";
    case TaskStatus::kPausing: return "pausing";
  }
  return "unknown";
}

namespace {
Error unsupported(std::string_view what) {
  return failedPrecondition(std::string(what) + ": not supported by this containerd client");
}
}  // namespace

Status Client::setLabels(std::string_view, std::string_view, const Labels&) {
  return unsupported("setLabels");
}
Result<std::unique_ptr<Subscription>> Client::subscribe(std::vector<std::string>, EventCallback,
                                                        BrokenCallback) {
  return unsupported("subscribe");
}
Status Client::execProcess(std::string_view, std::string_view, const ExecRequest&) {
  return unsupported("execProcess");
}
Status Client::startProcess(std::string_view, std::string_view, std::string_view) {
  return unsupported("startProcess");
}
Result<ExitStatus> Client::waitProcess(std::string_view, std::string_view, std::string_view,
                                       std::chrono::milliseconds) {
  return unsupported("waitProcess");
}
Status Client::killProcess(std::string_view, std::string_view, std::string_view, int) {
  return unsupported("killProcess");
}
Result<ExitStatus> Client::deleteProcess(std::string_view, std::string_view, std::string_view) {
  return unsupported("deleteProcess");
}
Result<TaskMetrics> Client::metrics(std::string_view, std::string_view) {
  return unsupported("metrics");
}

}  // namespace contd::containerd
