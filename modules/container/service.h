#pragma once
// The container module: Run, Inspect, Delete, SignalDelete, List, ListNS, Exists, on top of
// containerd. It keeps no state of its own: the container record in containerd (label
// io.contd.managed=true, the ContainerSpec in a spec annotation) is the truth, so a
// restarted contd sees exactly what it left.
//
// Thread-safety: every method may be called concurrently; calls on the same container
// (ns, id) are serialised.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/common/record_schema.h"
#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/container/container_store.h"
#include "modules/container/control.h"
#include "modules/container/defaults.h"
#include "modules/container/netns_check.h"
#include "modules/container/runtime_choice.h"
#include "modules/container/shim_keeper.h"
#include "modules/container/event_bus.h"
#include "modules/container/exec_runner.h"
#include "modules/container/exec_session.h"
#include "modules/container/health_monitor.h"
#include "modules/container/log_files.h"
#include "modules/container/log_follower.h"
#include "modules/container/log_reader.h"
#include "modules/container/log_retention.h"
#include "modules/container/stored_spec.h"
#include "modules/container/task_control.h"
#include "modules/containerd/client.h"
#include "modules/images/image_store.h"

namespace contd::container {

struct ServiceOptions {
  std::filesystem::path log_root = kDefaultLogRoot;  // <log_root>/<ns>/<name>.log
  // contd-shim-logs, containerd's binary:// log driver for our containers (absolute path).
  std::filesystem::path log_shim = kDefaultLogShim;
  std::uint64_t log_max_size = kDefaultLogMaxSize;  // rotate past this many bytes; 0: never
  unsigned log_max_files = kDefaultLogMaxFiles;    // rotated files kept
  // Back-pressure (docs/logs.md): "block" (lossless) or "drop" past log_rate_limit bytes/s.
  std::string log_policy = kDefaultLogPolicy;
  std::uint64_t log_rate_limit = kDefaultLogRateLimit;
  // Logs of deleted containers (docs/logs.md#retention); reloadable through logRetention().
  RetentionLimits log_retention;
  std::filesystem::path netns_dir = kDefaultNetnsDir;
  // Whether a network namespace file may be joined (the kernel's answer; unit tests without
  // network namespaces give their own).
  NetnsCheck check_netns = checkJoinableNetns;
  // Host folders a container may see (mount sources, a directory rootfs); empty: any.
  std::vector<std::filesystem::path> mount_sources;
  bool allow_elevated = true;  // whether Run may make elevated containers
  // Images for Run with spec.image (not owned; must outlive the service). When null, such a
  // Run is kFailedPrecondition.
  images::ImageStore* images = nullptr;
  std::filesystem::path cgroup_root = kDefaultCgroupRoot;
  std::filesystem::path resolv_conf = "/etc/resolv.conf";
  std::chrono::milliseconds default_shutdown_timeout = kDefaultShutdownTimeout;
  // After SIGKILL, how long Delete waits for the exit before giving up.
  std::chrono::milliseconds kill_grace = kDefaultKillGrace;
  // Bound on task Create (a stdio logger that never gets ready would block it forever).
  std::chrono::milliseconds task_create_timeout = kDefaultTaskCreateTimeout;
  std::int64_t default_pids_limit = kDefaultPidsLimit;
  // The OCI linux.seccomp object given to every container; none when unset.
  std::optional<nlohmann::json> seccomp_profile;
  // What runs health checks; empty: exec (quietly) in the container, as Exec does. Unit tests
  // give their own.
  HealthProbe health_probe;
  // The runtime and shim grouping of containers Run from now on (checked by the caller:
  // runtime_choice.h usableRuntime); reloadable with setRuntimeChoice.
  RuntimeChoice runtime;
  // Keeps a shim group's shim between its containers (shim_keeper.h); asked after each Run
  // of a grouped container. None when null. Not owned; must outlive the service.
  ShimKeeper* keeper = nullptr;
};

struct InspectedContainer {
  ContainerInfo info;
  nlohmann::json runtime_spec;
};

class ContainerService {
public:
  ContainerService(containerd::Client& client, ServiceOptions options);

  // Validates `spec` (nothing is created on invalid input), creates the container and
  // its task and starts it. Returns the container id (the name). On any failure after
  // the first create, everything made is removed again. spec.user (or the image's User)
  // is resolved before anything is created (user_lookup.h): an unknown user or group name
  // is kInvalidArgument and leaves nothing behind.
  Result<std::string> run(std::string_view ns, const ContainerSpec& spec);
  // kNotFound for an unknown or unmanaged container.
  Result<ContainerInfo> inspect(std::string_view ns, std::string_view id);
  // SIGTERM, up to the shutdown timeout, SIGKILL; then the task, the container and any
  // empty cgroup parent go. kNotFound for an unknown or unmanaged container.
  Status remove(std::string_view ns, std::string_view id);
  // Marks the container as going away and sends SIGTERM without waiting. An unknown
  // container is not an error.
  Status signalDelete(std::string_view ns, std::string_view id);
  // Managed containers of `ns`, or of every namespace when `ns` is empty.
  Result<std::vector<ContainerInfo>> list(std::string_view ns);
  Result<std::vector<std::string>> listNamespaces();
  Result<bool> exists(std::string_view ns, std::string_view id);

  // Runs `argv` inside the running container with the container's env, cwd and
  // confinement, waits up to `timeout` (then SIGKILL) and returns its exit and output.
  // kFailedPrecondition when the container does not run; kInvalidArgument for an empty argv.
  Result<ExecResult> exec(std::string_view ns, std::string_view id,
                          const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const ExecOptions& exec_options = {});
  // An interactive exec in the running container (exec_session.h), started. Errors: as
  // exec(), plus kInvalidArgument for a bad timeout or terminal size.
  Result<std::unique_ptr<ExecSession>> startExec(std::string_view ns, std::string_view id,
                                                 const ExecStreamOptions& options);
  // CPU, memory and pids figures of the container's cgroup.
  Result<containerd::TaskMetrics> stats(std::string_view ns, std::string_view id);
  // The container's output lines (both streams), across rotated log files. For a name
  // without a container whose deleted predecessor's log is kept, kNotFound says so and
  // names previousLogs.
  Result<std::vector<LogLine>> logs(std::string_view ns, std::string_view id,
                                    const LogQuery& query);
  // The same from the kept log of the most recently deleted container of the name
  // (docs/logs.md#retention); kNotFound when none is kept.
  Result<std::vector<LogLine>> previousLogs(std::string_view ns, std::string_view id,
                                            const LogQuery& query);
  // Retires every log in place under log_root whose container no longer exists (contd
  // stopped between a Delete and the retiring of its log). At start. (service_logs.cc)
  void retireOrphanLogs();
  // What logs() returns, then every line written after it, to `sink` until `cancelled`
  // returns true (asked every kFollowCheckEvery), `sink` refuses a line, or the container
  // is removed or has ended for good (stopped, failed, or exited where its restart policy
  // does not restart it): then the last lines are read and it returns OK. A container
  // whose log file is not there yet (nothing written so far) is followed from its first
  // line; only an unknown container is kNotFound. (service_logs.cc)
  Status followLogs(std::string_view ns, std::string_view id, const LogQuery& query,
                    const LogSink& sink, const std::function<bool()>& cancelled);
  // Inspect and the OCI runtime spec together, from one read of the record (zbus Inspect
  // reports what the container really got).
  Result<InspectedContainer> inspectWithRuntimeSpec(std::string_view ns, std::string_view id);
  // The OCI runtime spec the container was created with, as stored in containerd.
  Result<nlohmann::json> runtimeSpec(std::string_view ns, std::string_view id);
  // Where the container's log is written: <log_root>/<ns>/<id>.log.
  std::filesystem::path logPath(std::string_view ns, std::string_view name) const;

  const ServiceOptions& options() const { return options_; }
  // Changes the defaults of containers that set none, for Runs and Deletes from now on
  // (SIGHUP). Containers already made keep what was stored for them.
  void setDefaults(std::chrono::milliseconds shutdown_timeout, std::int64_t pids_limit);
  // The runtime and shim grouping of containers Run from now on (a reload); containers
  // that exist keep theirs.
  void setRuntimeChoice(RuntimeChoice choice);
  RuntimeChoice runtimeChoice() const;
  EventBus& events() { return events_; }

  // Stop, Start, Restart, Kill and Wait (control.h).
  ContainerControl& control() { return control_; }
  // Health checks (health_monitor.h): the daemon starts and stops them; RunHealthCheck.
  HealthMonitor& health() { return health_; }
  // The logs of deleted containers: the daemon starts its sweeper and reloads its limits.
  LogRetention& logRetention() { return retention_; }

  // The units the Supervisor shares with the operations (daemon wiring).
  ContainerStore& store() { return store_; }
  TaskControl& tasks() { return tasks_; }

private:
  // The "process" object of a running container's stored spec, for an exec.
  Result<nlohmann::json> execProcessSpec(std::string_view ns, std::string_view id);
  // Validation, the image's config merged in, the user resolved: everything a Run needs
  // before anything is created.
  struct RunPlan;
  Result<RunPlan> plan(std::string_view ns, const ContainerSpec& requested);
  enum class Existing { kRunning, kDiscarded, kOther };
  // Run found its name taken (the caller holds the lock): a container of the same record
  // that runs is what an earlier Run made (it may have answered UNAVAILABLE); one of the
  // same record that never ran is what an interrupted Run left and is discarded.
  Existing checkExisting(std::string_view ns, const containerd::ContainerRecord& wanted);
  // Whether a follow of the container's log should end: it is gone, or will not run again.
  bool endedForGood(std::string_view ns, std::string_view id);
  // `missing` (the record's kNotFound), told about a kept log of a deleted container.
  Error explainMissing(std::string_view ns, std::string_view id, const Error& missing) const;
  // `stored` is readStoredSpec(record): an unreadable one leaves the spec empty but the name.
  ContainerInfo describe(std::string_view ns, const containerd::ContainerRecord& record,
                         const Result<StoredSpec>& stored,
                         const std::optional<containerd::TaskState>& task) const;

  containerd::Client& client_;
  ServiceOptions options_;
  LogFiles logs_;
  LogRetention retention_;
  ContainerStore store_;
  TaskControl tasks_;
  ExecRunner exec_;
  EventBus events_;
  // The reloadable part of options_ (see setDefaults).
  std::atomic<std::int64_t> default_shutdown_ms_;
  std::atomic<std::int64_t> default_pids_limit_;
  mutable std::mutex runtime_mutex_;
  RuntimeChoice runtime_choice_;  // guarded by runtime_mutex_
  seccomp::BpfCache seccomp_bpf_;  // crun's precompiled filters, per distinct profile
  ContainerControl control_;
  HealthMonitor health_;  // last: its threads use the members above
};

}  // namespace contd::container
