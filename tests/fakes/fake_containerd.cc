#include "tests/fakes/fake_containerd.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <utility>

#include "tests/fakes/fake_containerd_detail.h"

namespace contd::testing {
using containerd::TaskStatus;
using fake_detail::checkNamespace;
using fake_detail::missing;

std::optional<Error> FakeContainerd::takeFailure(const std::string& op) {
  auto it = failures_.find(op);
  if (it == failures_.end()) {
    return std::nullopt;
  }
  Error error = std::move(it->second);
  failures_.erase(it);
  return error;
}

void FakeContainerd::failNext(const std::string& op, Code code) {
  failNext(op, makeError(code, "injected failure of " + op));
}

void FakeContainerd::failNext(const std::string& op, Error error) {
  std::lock_guard lock(mu_);
  failures_.insert_or_assign(op, std::move(error));
}

void FakeContainerd::strandTask(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  namespaces_.insert(ns);
  Task task;
  task.state.id = id;
  task.stranded = true;
  tasks_[{ns, id}] = std::move(task);
}

void FakeContainerd::leaveBundle(const std::string& ns, const std::string& id,
                                 std::filesystem::path bundle) {
  std::lock_guard lock(mu_);
  namespaces_.insert(ns);
  bundles_[{ns, id}] = std::move(bundle);
}

void FakeContainerd::ignoreSigterm(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  ignore_sigterm_.insert({ns, id});
}

containerd::UnixNanos FakeContainerd::tick() {
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  clock_ = std::max<containerd::UnixNanos>(clock_ + 1, now);
  return clock_;
}

void FakeContainerd::exitTask(const std::string& ns, const std::string& id, std::uint32_t code) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find({ns, id});
  if (it != tasks_.end()) {
    if (it->second.state.status == TaskStatus::kStopped) {
      // Already ended: only the status changes, no second exit event.
      it->second.state.exit_status = code;
      it->second.state.exited_at = tick();
    } else {
      stopTask(it->first, it->second, code);
    }
  }
}

bool FakeContainerd::hasContainer(const std::string& ns, const std::string& id) const {
  std::lock_guard lock(mu_);
  return containers_.contains({ns, id});
}

bool FakeContainerd::hasTask(const std::string& ns, const std::string& id) const {
  std::lock_guard lock(mu_);
  return tasks_.contains({ns, id});
}

std::size_t FakeContainerd::containerCount() const {
  std::lock_guard lock(mu_);
  return containers_.size();
}

std::set<std::string> FakeContainerd::namespaces() const {
  std::lock_guard lock(mu_);
  return {namespaces_.begin(), namespaces_.end()};
}

containerd::ContainerRecord FakeContainerd::record(const std::string& ns,
                                                   const std::string& id) const {
  std::lock_guard lock(mu_);
  return containers_.at({ns, id});
}

containerd::TaskIo FakeContainerd::taskIo(const std::string& ns, const std::string& id) const {
  std::lock_guard lock(mu_);
  return tasks_.at({ns, id}).io;
}

std::vector<int> FakeContainerd::signals(const std::string& ns, const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find({ns, id});
  return it == tasks_.end() ? std::vector<int>{} : it->second.signals;
}

Status FakeContainerd::ensureNamespace(std::string_view ns) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("ensureNamespace")) {
    return *failure;
  }
  namespaces_.emplace(ns);
  return okStatus();
}

Result<std::vector<std::string>> FakeContainerd::listNamespaces() {
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("listNamespaces")) {
    return *failure;
  }
  return std::vector<std::string>(namespaces_.begin(), namespaces_.end());
}

Status FakeContainerd::createContainer(std::string_view ns,
                                       const containerd::ContainerRecord& record) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("createContainer")) {
    return *failure;
  }
  if (!namespaces_.contains(ns)) {
    return notFound("namespace \"" + std::string(ns) + "\": not found");
  }
  Key key{std::string(ns), record.id};
  if (containers_.contains(key)) {
    return alreadyExists("container \"" + record.id + "\": already exists");
  }
  auto stored = record;
  stored.created_at = tick();
  containers_.emplace(key, std::move(stored));
  return okStatus();
}

Result<containerd::ContainerRecord> FakeContainerd::getContainer(std::string_view ns,
                                                                 std::string_view id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("getContainer")) {
    return *failure;
  }
  auto it = containers_.find({std::string(ns), std::string(id)});
  if (it == containers_.end()) {
    return missing("container", ns, id);
  }
  return it->second;
}

Result<std::vector<containerd::ContainerRecord>> FakeContainerd::listContainers(
    std::string_view ns, const containerd::Labels& must_match) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("listContainers")) {
    return *failure;
  }
  std::vector<containerd::ContainerRecord> out;
  for (const auto& [key, record] : containers_) {
    if (key.first != ns) {
      continue;
    }
    bool matches = true;
    for (const auto& [label, value] : must_match) {
      auto it = record.labels.find(label);
      matches = matches && it != record.labels.end() && it->second == value;
    }
    if (matches) {
      out.push_back(record);
    }
  }
  return out;
}

Status FakeContainerd::deleteContainer(std::string_view ns, std::string_view id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("deleteContainer")) {
    return *failure;
  }
  if (containers_.erase({std::string(ns), std::string(id)}) == 0) {
    return missing("container", ns, id);
  }
  return okStatus();
}

Result<containerd::TaskState> FakeContainerd::createTask(std::string_view ns, std::string_view id,
                                                         const containerd::TaskIo& io,
                                                         std::chrono::milliseconds /*timeout*/) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("createTask")) {
    return *failure;
  }
  Key key{std::string(ns), std::string(id)};
  if (!containers_.contains(key)) {
    return missing("container", ns, id);
  }
  if (tasks_.contains(key)) {
    return alreadyExists("task " + std::string(id) + ": already exists");
  }
  if (auto bundle = bundles_.find(key);
      bundle != bundles_.end() && std::filesystem::exists(bundle->second)) {
    return makeError(Code::kUnknown,
                     "failed to start shim: mkdir " + bundle->second.string() + ": file exists");
  }
  Task task;
  task.state.id = std::string(id);
  task.state.pid = next_pid_++;
  task.state.status = TaskStatus::kCreated;
  task.io = io;
  auto state = task.state;
  tasks_.emplace(key, std::move(task));
  return state;
}

Status FakeContainerd::startTask(std::string_view ns, std::string_view id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("startTask")) {
    return *failure;
  }
  auto it = tasks_.find({std::string(ns), std::string(id)});
  if (it == tasks_.end() || it->second.stranded) {
    return missing("task", ns, id);
  }
  it->second.state.status = TaskStatus::kRunning;
  return okStatus();
}

Result<containerd::TaskState> FakeContainerd::getTask(std::string_view ns, std::string_view id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("getTask")) {
    return *failure;
  }
  auto it = tasks_.find({std::string(ns), std::string(id)});
  if (it == tasks_.end() || it->second.stranded) {
    return missing("task", ns, id);
  }
  return it->second.state;
}

Result<std::vector<containerd::TaskState>> FakeContainerd::listTasks(std::string_view ns) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("listTasks")) {
    return *failure;
  }
  std::vector<containerd::TaskState> out;
  for (const auto& [key, task] : tasks_) {
    if (key.first == ns && !task.stranded) {
      out.push_back(task.state);
    }
  }
  return out;
}

Status FakeContainerd::killTask(std::string_view ns, std::string_view id, int signal,
                                bool /*all*/) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("killTask")) {
    return *failure;
  }
  Key key{std::string(ns), std::string(id)};
  auto it = tasks_.find(key);
  if (it == tasks_.end() || it->second.stranded) {
    return missing("task", ns, id);
  }
  auto& task = it->second;
  if (task.state.status == TaskStatus::kStopped) {
    return notFound("process already finished");
  }
  task.signals.push_back(signal);
  const bool ignored = signal == SIGTERM && ignore_sigterm_.contains(key);
  if (!ignored) {
    stopTask(it->first, task, 128 + static_cast<std::uint32_t>(signal));
    task.state.pid = 0;
  }
  return okStatus();
}

Result<containerd::ExitStatus> FakeContainerd::waitTask(std::string_view ns, std::string_view id,
                                                        std::chrono::milliseconds timeout) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("waitTask")) {
    return *failure;
  }
  auto it = tasks_.find({std::string(ns), std::string(id)});
  if (it == tasks_.end() || it->second.stranded) {
    return missing("task", ns, id);
  }
  const auto& state = it->second.state;
  if (state.status != TaskStatus::kStopped) {
    // Nothing else can make it exit while we hold the lock: the wait runs out.
    return makeError(Code::kDeadlineExceeded,
                     "wait: still running after " + std::to_string(timeout.count()) + " ms");
  }
  return containerd::ExitStatus{state.exit_status, state.exited_at};
}

Result<containerd::ExitStatus> FakeContainerd::deleteTask(std::string_view ns,
                                                          std::string_view id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("deleteTask")) {
    return *failure;
  }
  auto it = tasks_.find({std::string(ns), std::string(id)});
  if (it != tasks_.end() && it->second.stranded) {
    tasks_.erase(it);  // containerd ends the shim, then reports the shim's NotFound
    return missing("task", ns, id);
  }
  if (it == tasks_.end()) {
    return missing("task", ns, id);
  }
  const auto& state = it->second.state;
  if (state.status == TaskStatus::kRunning) {
    return makeError(Code::kUnknown, "cannot delete a running process");
  }
  containerd::ExitStatus exit{state.exit_status, state.exited_at};
  tasks_.erase(it);
  return exit;
}

// ---- Labels, exec, metrics -----------------------------------------------------------

Status FakeContainerd::setLabels(std::string_view ns, std::string_view id,
                                 const containerd::Labels& labels) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("setLabels")) {
    return *failure;
  }
  auto it = containers_.find({std::string(ns), std::string(id)});
  if (it == containers_.end()) {
    return missing("container", ns, id);
  }
  for (const auto& [key, value] : labels) {
    if (value.empty()) {
      it->second.labels.erase(key);
    } else {
      it->second.labels[key] = value;
    }
  }
  return okStatus();
}

Result<containerd::TaskMetrics> FakeContainerd::metrics(std::string_view ns,
                                                        std::string_view id) {
  CONTD_RETURN_IF_ERROR(checkNamespace(ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("metrics")) {
    return *failure;
  }
  const Key key{std::string(ns), std::string(id)};
  if (!tasks_.contains(key)) {
    return missing("task", ns, id);
  }
  auto it = metrics_.find(key);
  return it == metrics_.end() ? containerd::TaskMetrics{} : it->second;
}

}  // namespace contd::testing
