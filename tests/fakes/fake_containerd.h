#pragma once
// An in-memory containerd for unit tests: namespaces, container records and tasks as maps.
// It follows the real one where contd depends on it (NOT_FOUND for unknown ids,
// ALREADY_EXISTS for duplicates, a running task cannot be deleted) and lets a test inject
// failures and decide how a task reacts to signals. Thread-safe.
//
// Waits never block: waitTask/waitProcess answer at once, kDeadlineExceeded while the
// process runs (nothing else could make it exit meanwhile).
//
// Events: each subscription has its own delivery thread and queue, like GrpcClient's, so a
// callback never runs on the thread that caused the event nor under the fake's lock, and
// may call back into the fake. Events are queued, in this order, when:
//   - killTask stops a task (any signal but an ignored SIGTERM): /tasks/exit for each of its
//     running exec'd processes (137, process_id = exec id), then for the task
//     (128+signal, process_id = container id);
//   - exitTask(ns, id, code) stops a running or created task: the same, with `code`;
//   - an exec'd process ends (startProcess with a preset result, killProcess,
//     exitProcess): /tasks/exit with process_id = exec id;
//   - a test calls emitExit / emitOom: the event alone, no state change (for duplicates,
//     stale events and OOMs; an OOM that kills is emitOom then exitTask(..., 137)).
// Nothing else emits (no /tasks/start, /tasks/delete). A subscription sees the events of its
// topics queued after subscribe() returned. flushEvents() waits until every queued event has
// been delivered. breakSubscriptions(error) ends every live subscription: each gets
// on_broken(error) once, after the events queued before it, and nothing more.

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "modules/containerd/client.h"

namespace contd::testing {

class FakeContainerd : public containerd::Client {
public:
  // The next call of `op` ("createTask", "startTask", ...) fails with `code`, or `error`.
  void failNext(const std::string& op, Code code);
  void failNext(const std::string& op, Error error);
  // Tasks of this container ignore SIGTERM (like a PID 1 without a handler).
  void ignoreSigterm(const std::string& ns, const std::string& id);
  // The task exits by itself with `code`.
  void exitTask(const std::string& ns, const std::string& id, std::uint32_t code);
  // Leaves a task of `id` (no record needed) the way containerd 1.6 does when it is killed
  // during tasks.Create: its runtime lists the shim, whose own Create never finished. Then
  // getTask, killTask and waitTask say kNotFound, listTasks leaves it out, createTask says
  // kAlreadyExists ("task <id>: already exists"), and deleteTask ends the shim (the task is
  // gone) and still says kNotFound (services/tasks, runtime/v2/shim.go shimTask.delete).
  void strandTask(const std::string& ns, const std::string& id);
  // Leaves the bundle directory `bundle` of `id` the way containerd 1.6 does when it is
  // killed inside tasks.Create before a shim started: while `bundle` exists on disk,
  // createTask of `id` fails with kUnknown "failed to start shim: mkdir <bundle>: file
  // exists" (runtime/v2 NewBundle's os.Mkdir). The test makes the directory.
  void leaveBundle(const std::string& ns, const std::string& id, std::filesystem::path bundle);

  // Events (see above). emitExit queues a /tasks/exit for the init process of `id`.
  void emitExit(const std::string& ns, const std::string& id, std::uint32_t code);
  void emitOom(const std::string& ns, const std::string& id);
  void emitEvent(const containerd::Event& event);
  void breakSubscriptions(const Error& error);
  // Blocks until every event queued so far has been delivered (its callback returned).
  void flushEvents();
  std::size_t subscriptionCount() const;  // live subscriptions (not broken, not destroyed)

  // Exec: what a started exec'd process does. With an exit code it writes `output` to the
  // file of its stdout URI (file:// only) and exits at once; without, it runs until killed
  // or exitProcess.
  struct ExecResult {
    std::optional<std::uint32_t> exit_code;
    std::string output;
  };
  // Applies to every process exec'd into `id` from now on.
  void setExecResult(const std::string& ns, const std::string& id, ExecResult result);
  void exitProcess(const std::string& ns, const std::string& id, const std::string& exec_id,
                   std::uint32_t code);
  // The requests of the processes exec'd into `id` and not yet deleted, in exec order.
  std::vector<containerd::ExecRequest> execs(const std::string& ns, const std::string& id) const;
  std::vector<int> processSignals(const std::string& ns, const std::string& id,
                                  const std::string& exec_id) const;

  // What metrics() answers for a task of `id` (all zero when never set). updateTask refuses a
  // memory limit below its memory_usage_bytes, as runc does on cgroup v1.
  void setMetrics(const std::string& ns, const std::string& id, containerd::TaskMetrics metrics);
  // The resources of every updateTask the current task of `id` accepted, oldest first
  // (fake_containerd_update.cc).
  std::vector<std::string> taskUpdates(const std::string& ns, const std::string& id) const;

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

  Status setLabels(std::string_view ns, std::string_view id,
                   const containerd::Labels& labels) override;
  Status setSpec(std::string_view ns, std::string_view id, std::string_view spec_json) override;
  // Like the runc shim: kNotFound without a task, kUnknown for one that has exited, resources
  // that are not a JSON object are kUnknown, a memory limit below the task's memory usage
  // (setMetrics) kUnknown in runc's words; else the update is recorded (taskUpdates).
  Status updateTask(std::string_view ns, std::string_view id,
                    std::string_view resources_json) override;
  Result<std::unique_ptr<containerd::Subscription>> subscribe(
      std::vector<std::string> topics, containerd::EventCallback on_event,
      containerd::BrokenCallback on_broken) override;
  Status execProcess(std::string_view ns, std::string_view id,
                     const containerd::ExecRequest& request) override;
  Status startProcess(std::string_view ns, std::string_view id,
                      std::string_view exec_id) override;
  Result<containerd::ExitStatus> waitProcess(std::string_view ns, std::string_view id,
                                             std::string_view exec_id,
                                             std::chrono::milliseconds timeout) override;
  Status killProcess(std::string_view ns, std::string_view id, std::string_view exec_id,
                     int signal) override;
  Result<containerd::ExitStatus> deleteProcess(std::string_view ns, std::string_view id,
                                               std::string_view exec_id) override;
  Status closeProcessStdin(std::string_view ns, std::string_view id,
                           std::string_view exec_id) override;
  Status resizeProcessPty(std::string_view ns, std::string_view id, std::string_view exec_id,
                          std::uint32_t width, std::uint32_t height) override;
  Result<containerd::TaskMetrics> metrics(std::string_view ns, std::string_view id) override;

  // A subscriber's queue and delivery thread state (fake_containerd.cc); shared with the
  // Subscription it belongs to.
  struct Subscriber;

private:
  using Key = std::pair<std::string, std::string>;
  struct Process {
    containerd::ExecRequest request;
    containerd::TaskState state;  // id = exec id
    std::vector<int> signals;
    bool stdin_closed = false;                                 // closeProcessStdin
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sizes;  // resizeProcessPty
  };
  struct Task {
    containerd::TaskState state;
    containerd::TaskIo io;
    std::vector<int> signals;
    std::map<std::string, Process, std::less<>> processes;  // by exec id
    std::vector<std::string> exec_order;
    bool stranded = false;  // see strandTask
    std::vector<std::string> updates;  // see taskUpdates
  };

  std::optional<Error> takeFailure(const std::string& op);  // requires mu_
  // Marks the task stopped and queues the exits of its running processes, then its own.
  void stopTask(const Key& key, Task& task, std::uint32_t code);  // requires mu_
  void stopProcess(const Key& key, Process& process, std::uint32_t code);  // requires mu_
  void queueExit(const Key& key, const std::string& process_id, std::uint32_t pid,
                 std::uint32_t code, containerd::UnixNanos at);  // requires mu_
  void queueEvent(const containerd::Event& event);  // requires mu_
  Result<Process*> findProcess(std::string_view ns, std::string_view id,
                               std::string_view exec_id);  // requires mu_

  mutable std::mutex mu_;
  std::set<std::string, std::less<>> namespaces_;
  std::map<Key, containerd::ContainerRecord> containers_;
  std::map<Key, Task> tasks_;
  std::map<Key, std::filesystem::path> bundles_;  // leaveBundle
  std::map<std::string, Error> failures_;
  std::set<Key> ignore_sigterm_;
  std::map<Key, ExecResult> exec_results_;
  std::map<Key, containerd::TaskMetrics> metrics_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;  // pruned when they end
  std::uint32_t next_pid_ = 1000;
  // Like containerd's, timestamps are wall-clock time (the restart policy compares them
  // with now); strictly increasing so that two events never share one.
  containerd::UnixNanos tick();
  containerd::UnixNanos clock_ = 0;
};

}  // namespace contd::testing
