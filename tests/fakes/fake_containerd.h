#pragma once
// An in-memory containerd for unit tests: namespaces, container records and tasks as maps.
// It follows the real one where contd depends on it (NOT_FOUND for unknown ids,
// ALREADY_EXISTS for duplicates, a running task cannot be deleted) and lets a test inject
// failures and decide how a task reacts to signals. Thread-safe.

#include <map>
#include <optional>
#include <vector>
#include <mutex>
#include <set>
#include <string>

#include "modules/containerd/client.h"

namespace contd::testing {

class FakeContainerd : public containerd::Client {
public:
  // The next call of `op` ("createTask", "startTask", ...) fails with `code`.
  void failNext(const std::string& op, Code code);
  // Tasks of this container ignore SIGTERM (like a PID 1 without a handler).
  void ignoreSigterm(const std::string& ns, const std::string& id);
  // The task exits by itself with `code`.
  void exitTask(const std::string& ns, const std::string& id, std::uint32_t code);

  // Inspection for assertions.
  bool hasContainer(const std::string& ns, const std::string& id) const;
  bool hasTask(const std::string& ns, const std::string& id) const;
  std::size_t containerCount() const;
  std::set<std::string> namespaces() const;
  containerd::ContainerRecord record(const std::string& ns, const std::string& id) const;
  containerd::TaskIo taskIo(const std::string& ns, const std::string& id) const;
  // Signals received by a container's task, in order.
  std::vector<int> signals(const std::string& ns, const std::string& id) const;

  Status ensureNamespace(std::string_view ns) override;
  Result<std::vector<std::string>> listNamespaces() override;
  Status createContainer(std::string_view ns, const containerd::ContainerRecord& record) override;
  Result<containerd::ContainerRecord> getContainer(std::string_view ns,
                                                   std::string_view id) override;
  Result<std::vector<containerd::ContainerRecord>> listContainers(
      std::string_view ns, const containerd::Labels& must_match) override;
  Status deleteContainer(std::string_view ns, std::string_view id) override;
  Result<containerd::TaskState> createTask(std::string_view ns, std::string_view id,
                                           const containerd::TaskIo& io,
                                           std::chrono::milliseconds timeout) override;
  Status startTask(std::string_view ns, std::string_view id) override;
  Result<containerd::TaskState> getTask(std::string_view ns, std::string_view id) override;
  Result<std::vector<containerd::TaskState>> listTasks(std::string_view ns) override;
  Status killTask(std::string_view ns, std::string_view id, int signal, bool all) override;
  Result<containerd::ExitStatus> waitTask(std::string_view ns, std::string_view id,
                                          std::chrono::milliseconds timeout) override;
  Result<containerd::ExitStatus> deleteTask(std::string_view ns, std::string_view id) override;

private:
  using Key = std::pair<std::string, std::string>;
  struct Task {
    containerd::TaskState state;
    containerd::TaskIo io;
    std::vector<int> signals;
  };

  std::optional<Error> takeFailure(const std::string& op);  // requires mu_

  mutable std::mutex mu_;
  std::set<std::string, std::less<>> namespaces_;
  std::map<Key, containerd::ContainerRecord> containers_;
  std::map<Key, Task> tasks_;
  std::map<std::string, Code> failures_;
  std::set<Key> ignore_sigterm_;
  std::uint32_t next_pid_ = 1000;
  containerd::UnixNanos clock_ = 1'700'000'000'000'000'000;
};

}  // namespace contd::testing
