// FakeContainerd: processes exec'd into a task (fake_containerd.h).

#include <fstream>
#include <utility>

#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_containerd_detail.h"

namespace contd::testing {

using containerd::TaskStatus;
using fake_detail::checkNamespace;
using fake_detail::missing;

void FakeContainerd::setExecResult(const std::string& ns, const std::string& id,
                                   ExecResult result) {
  std::lock_guard lock(mu_);
  exec_results_[{ns, id}] = std::move(result);
}

void FakeContainerd::exitProcess(const std::string& ns, const std::string& id,
                                 const std::string& exec_id, std::uint32_t code) {
  std::lock_guard lock(mu_);
  auto process = findProcess(ns, id, exec_id);
  if (process && (*process)->state.status == TaskStatus::kRunning) {
    stopProcess({ns, id}, **process, code);
  }
}

std::vector<containerd::ExecRequest> FakeContainerd::execs(const std::string& ns,
                                                           const std::string& id) const {
  std::lock_guard lock(mu_);
  std::vector<containerd::ExecRequest> out;
  auto it = tasks_.find({ns, id});
  if (it != tasks_.end()) {
    for (const auto& exec_id : it->second.exec_order) {
      out.push_back(it->second.processes.find(exec_id)->second.request);
    }
  }
  return out;
}

std::vector<int> FakeContainerd::processSignals(const std::string& ns, const std::string& id,
                                                const std::string& exec_id) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find({ns, id});
  if (it == tasks_.end()) {
    return {};
  }
  auto process = it->second.processes.find(exec_id);
  return process == it->second.processes.end() ? std::vector<int>{} : process->second.signals;
}

void FakeContainerd::setMetrics(const std::string& ns, const std::string& id,
                                containerd::TaskMetrics metrics) {
  std::lock_guard lock(mu_);
  metrics_[{ns, id}] = metrics;
}

Result<FakeContainerd::Process*> FakeContainerd::findProcess(std::string_view ns,
                                                              std::string_view id,
                                                              std::string_view exec_id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  auto task = tasks_.find({std::string(ns), std::string(id)});
  if (task == tasks_.end()) {
    return missing("task", ns, id);
  }
  auto process = task->second.processes.find(exec_id);
  if (process == task->second.processes.end()) {
    return notFound("process " + std::string(exec_id) + ": not found");
  }
  return &process->second;
}

Status FakeContainerd::execProcess(std::string_view ns, std::string_view id,
                                   const containerd::ExecRequest& request) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("execProcess")) {
    return *failure;
  }
  auto it = tasks_.find({std::string(ns), std::string(id)});
  if (it == tasks_.end() || it->second.stranded) {
    return missing("task", ns, id);
  }
  Task& task = it->second;
  if (task.state.status != TaskStatus::kRunning) {
    return failedPrecondition("container \"" + std::string(id) + "\" is not running");
  }
  if (task.processes.contains(request.exec_id)) {
    return alreadyExists("id " + request.exec_id + ": already exists");
  }
  Process process;
  process.request = request;
  process.state.id = request.exec_id;
  process.state.status = TaskStatus::kCreated;
  task.processes.emplace(request.exec_id, std::move(process));
  task.exec_order.push_back(request.exec_id);
  return okStatus();
}

Status FakeContainerd::startProcess(std::string_view ns, std::string_view id,
                                    std::string_view exec_id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("startProcess")) {
    return *failure;
  }
  auto found = findProcess(ns, id, exec_id);
  if (!found) {
    return found.error();
  }
  Process& process = **found;
  if (process.state.status != TaskStatus::kCreated) {
    return failedPrecondition("process " + std::string(exec_id) + " was already started");
  }
  process.state.status = TaskStatus::kRunning;
  process.state.pid = next_pid_++;
  const Key key{std::string(ns), std::string(id)};
  auto result = exec_results_.find(key);
  if (result != exec_results_.end() && result->second.exit_code) {
    constexpr std::string_view kFileScheme = "file://";
    if (process.request.stdout_uri.starts_with(kFileScheme)) {
      std::ofstream out(process.request.stdout_uri.substr(kFileScheme.size()), std::ios::app);
      out << result->second.output;
    }
    stopProcess(key, process, *result->second.exit_code);
  }
  return okStatus();
}

Result<containerd::ExitStatus> FakeContainerd::waitProcess(std::string_view ns,
                                                           std::string_view id,
                                                           std::string_view exec_id,
                                                           std::chrono::milliseconds timeout) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("waitProcess")) {
    return *failure;
  }
  auto found = findProcess(ns, id, exec_id);
  if (!found) {
    return found.error();
  }
  const auto& state = (*found)->state;
  if (state.status != TaskStatus::kStopped) {
    return makeError(Code::kDeadlineExceeded,
                     "wait: still running after " + std::to_string(timeout.count()) + " ms");
  }
  return containerd::ExitStatus{state.exit_status, state.exited_at};
}

Status FakeContainerd::killProcess(std::string_view ns, std::string_view id,
                                   std::string_view exec_id, int signal) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("killProcess")) {
    return *failure;
  }
  auto found = findProcess(ns, id, exec_id);
  if (!found) {
    return found.error();
  }
  Process& process = **found;
  if (process.state.status == TaskStatus::kStopped) {
    return notFound("process already finished");
  }
  process.signals.push_back(signal);
  stopProcess({std::string(ns), std::string(id)}, process, 128 + static_cast<std::uint32_t>(signal));
  return okStatus();
}

Result<containerd::ExitStatus> FakeContainerd::deleteProcess(std::string_view ns,
                                                             std::string_view id,
                                                             std::string_view exec_id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("deleteProcess")) {
    return *failure;
  }
  auto found = findProcess(ns, id, exec_id);
  if (!found) {
    return found.error();
  }
  const auto state = (*found)->state;
  if (state.status == TaskStatus::kRunning) {
    return makeError(Code::kUnknown, "cannot delete a running process");
  }
  Task& task = tasks_.find({std::string(ns), std::string(id)})->second;
  task.processes.erase(task.processes.find(exec_id));
  std::erase(task.exec_order, std::string(exec_id));
  return containerd::ExitStatus{state.exit_status, state.exited_at};
}

Status FakeContainerd::closeProcessStdin(std::string_view ns, std::string_view id,
                                         std::string_view exec_id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("closeProcessStdin")) {
    return *failure;
  }
  auto found = findProcess(ns, id, exec_id);
  if (!found) {
    return found.error();
  }
  (*found)->stdin_closed = true;
  return okStatus();
}

Status FakeContainerd::resizeProcessPty(std::string_view ns, std::string_view id,
                                        std::string_view exec_id, std::uint32_t width,
                                        std::uint32_t height) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("resizeProcessPty")) {
    return *failure;
  }
  auto found = findProcess(ns, id, exec_id);
  if (!found) {
    return found.error();
  }
  (*found)->sizes.emplace_back(width, height);
  return okStatus();
}

}  // namespace contd::testing
