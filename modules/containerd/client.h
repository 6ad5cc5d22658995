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
  // The OCI runtime the runc shim runs for the container's tasks (its runtime options'
  // binary_name: "crun", or a path); empty: the shim's default, runc.
  std::string runtime_binary;
  std::string spec_json;  // the OCI runtime spec, as JSON
  UnixNanos created_at = 0;  // filled by containerd
  // The container's root filesystem snapshot, for containers run from an image (empty
  // otherwise). containerd's GC keeps a snapshot a container record names.
  std::string snapshotter;
  std::string snapshot_key;
};

enum class TaskStatus { kUnknown, kCreated, kRunning, kStopped, kPaused, kPausing };

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

// A mount as containerd passes it (e.g. an overlay snapshot: type "overlay", source
// "overlay", options lowerdir=…,upperdir=…,workdir=…).
struct Mount {
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

// Where the task's stdio goes: URIs as containerd understands them
// (file:///path, binary:///path?k=v, or a fifo path). Empty means /dev/null.
struct TaskIo {
  std::string stdin_path;
  std::string stdout_uri;
  std::string stderr_uri;
  // The task's root filesystem, mounted by the shim at <bundle>/rootfs (the spec's
  // root.path is then "rootfs"). Empty: root.path is a host directory.
  std::vector<Mount> rootfs;
};

// One event from containerd's event stream, decoded for the topics contd follows.
struct Event {
  enum class Kind { kTaskExit, kTaskOom, kTaskStart, kTaskDelete, kOther };
  Kind kind = Kind::kOther;
  std::string ns;
  std::string topic;         // e.g. "/tasks/exit"
  std::string container_id;  // the container the task belongs to (empty for kOther)
  // TaskExit/TaskDelete: the process (== container_id for the task's init process, the
  // exec id for an exec'd one). Every exec'd process that ends sends its own /tasks/exit.
  std::string process_id;
  std::uint32_t pid = 0;
  std::uint32_t exit_status = 0;  // 128+signal for a signalled process
  UnixNanos timestamp = 0;   // the envelope's time (TaskExit/TaskDelete: exited_at)
};

// How an event subscription ends or breaks: on_event sees every matching event in the
// order containerd sent it, duplicates included (one OOM gives dozens of /tasks/oom, and a
// /tasks/exit can arrive after Wait returned): the consumer dedupes. When the stream breaks
// (containerd went away: kUnavailable) on_broken is called once with the reason and the
// subscription is over: the owner destroys it, subscribes again, then catches up with
// List/Get/Wait. Events from containerd's downtime are never replayed.
using EventCallback = std::function<void(const Event&)>;
using BrokenCallback = std::function<void(const Error&)>;

// Ends the subscription when destroyed: the callbacks are not called after the destructor
// returns. Never destroy it from inside one of its own callbacks (the destructor joins the
// thread that runs them), and do not make a callback wait for the thread that destroys it.
class Subscription {
public:
  virtual ~Subscription() = default;
};

// A process run inside a container's running task (Exec).
struct ExecRequest {
  std::string exec_id;            // unique within the task (containerd identifier rules)
  std::string process_spec_json;  // OCI runtime-spec Process, as JSON (absolute args[0])
  // Like TaskIo. With the runc shim, file:// works for exec as for tasks: both streams land
  // in the stdout URI's file (the stderr URI's path is never opened), so give the same
  // file:// URI to both (an empty stderr next to a file:// stdout is not safe, see
  // docs/containerd-facts.md). containerd 1.6.20 closes that shared file when the stdout
  // copy reaches EOF, so stderr written right before the process exits can be lost (tasks
  // too); stdout is not affected.
  std::string stdout_uri;
  std::string stderr_uri;
  // A fifo path the shim reads the process's stdin from; empty: no stdin. The shim keeps its
  // own writer open, so the process sees EOF only after closeProcessStdin (and after every
  // writer of the fifo closed it).
  std::string stdin_uri;
  // A terminal: the shim gets the pty master from runc and copies it to stdout_uri (and
  // stdin_uri to it); stderr_uri is not used. The process spec's "terminal" must match.
  bool terminal = false;
};

// The cgroup figures of a task (Tasks.Metrics, cgroup v1); a field is 0 when containerd
// reports none.
struct TaskMetrics {
  std::uint64_t cpu_usage_ns = 0;           // cpuacct.usage: total CPU time
  std::uint64_t memory_usage_bytes = 0;     // memory.usage_in_bytes
  std::uint64_t memory_limit_bytes = 0;     // memory.limit_in_bytes (huge when unlimited)
  std::uint64_t memory_max_usage_bytes = 0; // memory.max_usage_in_bytes
  // memory.oom_control's oom_kill: processes of the cgroup the kernel OOM-killed (0 on
  // kernels before 4.13).
  std::uint64_t oom_kills = 0;
  // memory.failcnt: how often usage hit the limit (reclaim, not necessarily a kill).
  std::uint64_t memory_limit_hits = 0;
  std::uint64_t pids_current = 0;
  std::uint64_t pids_limit = 0;  // 0 when unlimited
};

// containerd's event stream alone: what the Supervisor needs of containerd besides the
// container records and tasks it reaches through the container module's own units.
class EventSource {
public:
  virtual ~EventSource() = default;

  // Follows containerd's events of every namespace whose topic is one of `topics` (e.g.
  // "/tasks/exit"; every topic when empty). Returns once containerd has registered the
  // subscription, so an event published after subscribe() returns is delivered; callbacks
  // run on a thread the subscription owns and may start before subscribe() returns.
  // Errors: kUnavailable (or what containerd said) when the subscription could not be set
  // up; on_broken is then never called.
  virtual Result<std::unique_ptr<Subscription>> subscribe(std::vector<std::string> topics,
                                                          EventCallback on_event,
                                                          BrokenCallback on_broken) = 0;
};

class Client : public EventSource {
public:

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

  // Sets (or, with an empty value, removes) the given labels on a container record and
  // leaves every other label as it is. Errors: kNotFound for an unknown container.
  virtual Status setLabels(std::string_view ns, std::string_view id, const Labels& labels) = 0;
  // Replaces the OCI runtime spec of a container record (labels, snapshot and the rest stay).
  // A task that runs keeps what it was created with; the next task of the container gets
  // the new spec. Errors: kNotFound for an unknown container.
  virtual Status setSpec(std::string_view ns, std::string_view id, std::string_view spec_json) = 0;
  // Changes the cgroup limits of the running task (tasks.Update): `resources_json` is an OCI
  // runtime-spec LinuxResources object, which the runc shim hands to `runc update`. runc
  // leaves a limit it is not given as it is, so lifting one must be said (-1).
  // Errors: kNotFound when the container has no task; what the shim or runc said otherwise
  // (kUnknown "cannot update a stopped container" when the task has exited, runc's own
  // refusal of a value, e.g. a memory limit below what the cgroup uses).
  virtual Status updateTask(std::string_view ns, std::string_view id,
                            std::string_view resources_json) = 0;

  // Exec: execProcess adds a process to a running task (created, not started), startProcess
  // starts it, waitProcess blocks until it exits or `timeout` passes (kDeadlineExceeded; the
  // process is not affected), killProcess signals it, deleteProcess removes it once it has
  // exited. Unknown task or exec id: kNotFound; a duplicate exec id: kAlreadyExists.
  virtual Status execProcess(std::string_view ns, std::string_view id,
                             const ExecRequest& request) = 0;
  virtual Status startProcess(std::string_view ns, std::string_view id,
                              std::string_view exec_id) = 0;
  virtual Result<ExitStatus> waitProcess(std::string_view ns, std::string_view id,
                                         std::string_view exec_id,
                                         std::chrono::milliseconds timeout) = 0;
  virtual Status killProcess(std::string_view ns, std::string_view id, std::string_view exec_id,
                             int signal) = 0;
  virtual Result<ExitStatus> deleteProcess(std::string_view ns, std::string_view id,
                                           std::string_view exec_id) = 0;
  // Closes the shim's end of an exec'd process's stdin (tasks.CloseIO), so that the
  // process reads EOF once the caller closed its own writer too.
  virtual Status closeProcessStdin(std::string_view ns, std::string_view id,
                                   std::string_view exec_id) = 0;
  // Sets the window size of an exec'd process's terminal (tasks.ResizePty).
  virtual Status resizeProcessPty(std::string_view ns, std::string_view id,
                                  std::string_view exec_id, std::uint32_t width,
                                  std::uint32_t height) = 0;

  // The task's cgroup figures. Errors: kNotFound when the container has no task;
  // kUnavailable when containerd has a task but reports no metrics for it (it cannot load
  // the task's cgroup, e.g. a cgroup v1 hierarchy exists that is not mounted).
  virtual Result<TaskMetrics> metrics(std::string_view ns, std::string_view id) = 0;
};

}  // namespace contd::containerd
