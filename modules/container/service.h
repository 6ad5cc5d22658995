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

#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/container/event_bus.h"
#include "modules/container/key_locks.h"
#include "modules/container/log_follower.h"
#include "modules/container/log_reader.h"
#include "modules/containerd/client.h"
#include "modules/images/image_store.h"

namespace contd::container {

inline constexpr char kManagedLabel[] = "io.contd.managed";
inline constexpr char kSpecAnnotation[] = "io.contd.container";

struct ServiceOptions {
  std::filesystem::path log_root = "/var/log/contd";  // <log_root>/<ns>/<name>.log
  // contd-shim-logs, containerd's binary:// log driver for our containers (absolute path).
  std::filesystem::path log_shim = "/usr/libexec/contd/contd-shim-logs";
  std::uint64_t log_max_size = 10 * 1024 * 1024;  // rotate past this many bytes; 0: never
  unsigned log_max_files = 3;                      // rotated files kept
  // Back-pressure (docs/logs.md): "block" (lossless) or "drop" past log_rate_limit bytes/s.
  std::string log_policy = "block";
  std::uint64_t log_rate_limit = 1024 * 1024;
  std::filesystem::path netns_dir = "/var/run/netns";
  // Images for Run with spec.image (not owned; must outlive the service). When null, such a
  // Run is kFailedPrecondition.
  images::ImageStore* images = nullptr;
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  std::filesystem::path resolv_conf = "/etc/resolv.conf";
  std::chrono::milliseconds default_shutdown_timeout{3000};
  // After SIGKILL, how long Delete waits for the exit before giving up.
  std::chrono::milliseconds kill_grace{5000};
  // Bound on task Create (a stdio logger that never gets ready would block it forever).
  std::chrono::milliseconds task_create_timeout{30000};
  std::int64_t default_pids_limit = 4096;
  // The OCI linux.seccomp object given to every container; none when unset.
  std::optional<nlohmann::json> seccomp_profile;
};

struct ExecResult {
  std::int32_t exit_code = -1;  // 128+N when killed by signal N
  bool timed_out = false;       // killed because it outlived its timeout
  std::string output;           // stdout and stderr together, the last kExecOutputLimit bytes
  bool truncated = false;       // the output was longer than that
};

inline constexpr std::size_t kExecOutputLimit = 64 * 1024;

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
                          const std::vector<std::string>& argv, std::chrono::milliseconds timeout);
  // CPU, memory and pids figures of the container's cgroup.
  Result<containerd::TaskMetrics> stats(std::string_view ns, std::string_view id);
  // The container's output lines (both streams), across rotated log files.
  Result<std::vector<LogLine>> logs(std::string_view ns, std::string_view id,
                                    const LogQuery& query);
  // What logs() returns, then every line written after it, to `sink` until `cancelled`
  // returns true (asked every kFollowCheckEvery) or `sink` refuses a line. A container
  // whose log file is not there yet (nothing written so far) is followed from its first
  // line; only an unknown container is kNotFound.
  Status followLogs(std::string_view ns, std::string_view id, const LogQuery& query,
                    const LogSink& sink, const std::function<bool()>& cancelled);
  // The OCI runtime spec the container was created with, as stored in containerd.
  Result<nlohmann::json> runtimeSpec(std::string_view ns, std::string_view id);
  // Where the container's log is written: <log_root>/<ns>/<id>.log.
  std::filesystem::path logPath(std::string_view ns, std::string_view name) const;

  const ServiceOptions& options() const { return options_; }
  // Changes the defaults of containers that set none, for Runs and Deletes from now on
  // (SIGHUP). Containers already made keep what was stored for them.
  void setDefaults(std::chrono::milliseconds shutdown_timeout, std::int64_t pids_limit);
  EventBus& events() { return events_; }

  // For the Supervisor (restart policy, reconcile): it holds a container's lock while it
  // decides, like every public call does.
  [[nodiscard]] KeyLocks::Guard lockContainer(std::string_view ns, std::string_view id);
  // The caller holds the lock. The record, when it is managed (kNotFound otherwise).
  Result<containerd::ContainerRecord> managedRecord(std::string_view ns, std::string_view id);
  // The caller holds the lock. Replaces a stopped task by a new one with the same stdio
  // and starts it; returns the new pid.
  Result<std::uint32_t> restartTaskLocked(std::string_view ns, std::string_view id);
  // The caller holds the lock. Removes task and container (a Run that died half-way).
  void discardLocked(std::string_view ns, std::string_view id) { rollback(ns, id); }

private:
  ContainerInfo describe(std::string_view ns, const containerd::ContainerRecord& record,
                         const std::optional<containerd::TaskState>& task) const;
  Status stopAndRemove(std::string_view ns, std::string_view id,
                       std::chrono::milliseconds shutdown_timeout, bool has_snapshot);
  void rollback(std::string_view ns, std::string_view id);
  // After task Create ran out of time: ends a log driver that never got ready.
  void endStuckLogger(std::string_view ns, std::string_view id);
  void removeEmptyCgroupParents(std::string_view ns, std::string_view id) const;
  containerd::TaskIo taskIo(std::string_view ns, std::string_view name) const;

  containerd::Client& client_;
  ServiceOptions options_;
  KeyLocks locks_;
  EventBus events_;
  std::atomic<std::uint64_t> exec_counter_{0};
  // The reloadable part of options_ (see setDefaults).
  std::atomic<std::int64_t> default_shutdown_ms_;
  std::atomic<std::int64_t> default_pids_limit_;
};

}  // namespace contd::container
