#pragma once
// What contd needs from containerd, in contd's own words. The container module sees only
// this header: no protobuf, no gRPC. GrpcClient (grpc_client.h) talks to a real containerd;
// tests/fakes/fake_containerd.h is an in-memory one for unit tests.
//
// Thread-safety: every method may be called from any thread concurrently.
// Errors: containerd's gRPC status is mapped to contd::Code (NOT_FOUND -> kNotFound, ...)
// and its message is kept in Error::message.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::containerd {

using Labels = std::map<std::string, std::string>;

// Nanoseconds since the Unix epoch; 0 when unset.
using UnixNanos = std::int64_t;

// A containerd container record (metadata only: no process).
struct ContainerRecord {
  std::string id;
  Labels labels;
  std::string runtime = "io.containerd.runc.v2";
  std::string spec_json;  // the OCI runtime spec, as JSON
  UnixNanos created_at = 0;  // filled by containerd
};

enum class TaskStatus { kUnknown, kCreated, kRunning, kStopped, kPaused, kPausing };

std::string_view taskStatusName(TaskStatus status);

struct TaskState {
  std::string id;
  std::uint32_t pid = 0;
  TaskStatus status = TaskStatus::kUnknown;
  std::uint32_t exit_status = 0;
  UnixNanos exited_at = 0;
};

struct ExitStatus {
  std::uint32_t code = 0;  // 128+signal for a signalled process, as containerd reports it
  UnixNanos exited_at = 0;
};

// Where the task's stdio goes: URIs as containerd understands them
// (file:///path, binary:///path?k=v, or a fifo path). Empty means /dev/null.
struct TaskIo {
  std::string stdin_path;
  std::string stdout_uri;
  std::string stderr_uri;
};

// One event from containerd's event stream, decoded for the topics contd follows.
struct Event {
  enum class Kind { kTaskExit, kTaskOom, kTaskStart, kTaskDelete, kOther };
  Kind kind = Kind::kOther;
  std::string ns;
  std::string topic;         // e.g. "/tasks/exit"
  std::string container_id;  // the container the task belongs to
  std::string process_id;    // TaskExit: the exited process (== container_id for init)
  std::uint32_t pid = 0;
  std::uint32_t exit_status = 0;
  UnixNanos timestamp = 0;   // the envelope's time (TaskExit: exited_at)
};

// How an event subscription ends or breaks: the callback sees every event in order; when
// the stream breaks (containerd went away) on_broken is called once with the reason and the
// subscription is over: the owner subscribes again, then catches up (events from the
// downtime are never replayed).
using EventCallback = std::function<void(const Event&)>;
using BrokenCallback = std::function<void(const Error&)>;

// Ends the subscription when destroyed (the callbacks are not called after the destructor
// returns).
class Subscription {
public:
  virtual ~Subscription() = default;
};

// A process run inside a container's task (Exec).
struct ExecRequest {
  std::string exec_id;            // unique within the task
  std::string process_spec_json;  // OCI runtime-spec Process, as JSON
  std::string stdout_uri;         // like TaskIo; file:// captures both streams in one file
  std::string stderr_uri;
};

// The cgroup figures of a task (Tasks.Metrics); a field is 0 when containerd reports none.
struct TaskMetrics {
  std::uint64_t cpu_usage_ns = 0;      // total CPU time
  std::uint64_t memory_usage_bytes = 0;
  std::uint64_t memory_limit_bytes = 0;
  std::uint64_t memory_max_usage_bytes = 0;
  std::uint64_t oom_kills = 0;          // memory.oom_control / failcnt as containerd gives it
  std::uint64_t pids_current = 0;
  std::uint64_t pids_limit = 0;
};

class Client {
public:
  virtual ~Client() = default;

  // Namespaces.
  virtual Status ensureNamespace(std::string_view ns) = 0;
  virtual Result<std::vector<std::string>> listNamespaces() = 0;

  // Container records. listContainers keeps only records carrying every label in
  // `must_match` (all of them when empty).
  virtual Status createContainer(std::string_view ns, const ContainerRecord& record) = 0;
  virtual Result<ContainerRecord> getContainer(std::string_view ns, std::string_view id) = 0;
  virtual Result<std::vector<ContainerRecord>> listContainers(std::string_view ns,
                                                              const Labels& must_match) = 0;
  virtual Status deleteContainer(std::string_view ns, std::string_view id) = 0;

  // Tasks (the container's init process). createTask returns once the process exists
  // (status kCreated) or `timeout` passes (kDeadlineExceeded: the caller must clean up).
  virtual Result<TaskState> createTask(std::string_view ns, std::string_view id, const TaskIo& io,
                                       std::chrono::milliseconds timeout) = 0;
  virtual Status startTask(std::string_view ns, std::string_view id) = 0;
  virtual Result<TaskState> getTask(std::string_view ns, std::string_view id) = 0;
  virtual Result<std::vector<TaskState>> listTasks(std::string_view ns) = 0;
  // Sends `signal` to the init process (to every process of the task when `all`).
  virtual Status killTask(std::string_view ns, std::string_view id, int signal, bool all) = 0;
  // Blocks until the task exits or `timeout` passes (kDeadlineExceeded; the task is
  // not affected).
  virtual Result<ExitStatus> waitTask(std::string_view ns, std::string_view id,
                                      std::chrono::milliseconds timeout) = 0;
  // Removes a stopped (or created) task; kFailedPrecondition-like errors from containerd
  // come back as they are when the task still runs.
  virtual Result<ExitStatus> deleteTask(std::string_view ns, std::string_view id) = 0;

  // The calls below have default bodies that answer kFailedPrecondition ("not supported"),
  // so a partial client (a test double) only overrides what it uses.
  // Sets (or, with an empty value, removes) the given labels on a container record and
  // leaves every other label as it is.
  virtual Status setLabels(std::string_view ns, std::string_view id, const Labels& labels);

  // Follows containerd's events of every namespace whose topic matches one of `topics`
  // (e.g. "/tasks/exit"). Callbacks run on a thread the subscription owns.
  virtual Result<std::unique_ptr<Subscription>> subscribe(std::vector<std::string> topics,
                                                          EventCallback on_event,
                                                          BrokenCallback on_broken);

  // Exec: adds a process to a running task, starts it; wait with waitProcess, remove with
  // deleteProcess. killProcess signals it.
  virtual Status execProcess(std::string_view ns, std::string_view id,
                             const ExecRequest& request);
  virtual Status startProcess(std::string_view ns, std::string_view id,
                              std::string_view exec_id);
  virtual Result<ExitStatus> waitProcess(std::string_view ns, std::string_view id,
                                         std::string_view exec_id,
                                         std::chrono::milliseconds timeout);
  virtual Status killProcess(std::string_view ns, std::string_view id, std::string_view exec_id,
                             int signal);
  virtual Result<ExitStatus> deleteProcess(std::string_view ns, std::string_view id,
                                           std::string_view exec_id);

  virtual Result<TaskMetrics> metrics(std::string_view ns, std::string_view id);
};

}  // namespace contd::containerd
