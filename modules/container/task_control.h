#pragma once
// A container's task (its init process in containerd's runc shim): created with contd's log
// driver and the container's rootfs, started, stopped gracefully, replaced after an exit,
// or discarded together with everything a Run left half-made. The one place that knows
// containerd's required order: kill, wait, delete the task, then the record, then the
// snapshot and the empty cgroups.
//
// Callers hold the container's lock (ContainerStore::lock). Thread-safety: like the store.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/container/cgroups.h"
#include "modules/container/container_store.h"
#include "modules/container/defaults.h"
#include "modules/container/log_files.h"
#include "modules/container/log_retention.h"
#include "modules/container/shim_host.h"
#include "modules/containerd/client.h"
#include "modules/images/image_store.h"

namespace contd::container {

struct TaskOptions {
  std::filesystem::path cgroup_root = kDefaultCgroupRoot;
  // After SIGKILL, how long a stop waits for the exit before giving up.
  std::chrono::milliseconds kill_grace = kDefaultKillGrace;
  // Bound on task Create (a stdio logger that never gets ready would block it forever).
  std::chrono::milliseconds create_timeout = kDefaultTaskCreateTimeout;
};

class TaskControl {
public:
  // `images` may be null (no container has a snapshot then). None is owned.
  TaskControl(containerd::Client& client, ContainerStore& store, const LogFiles& logs,
              LogRetention& retention, images::ImageStore* images, TaskOptions options);

  const TaskOptions& options() const { return options_; }
  // contd's log driver (contd-shim-logs), as the tasks' stdio URIs name it.
  const std::filesystem::path& logShim() const { return logs_.options().log_shim; }

  // The host whose stale bundles createTask may remove (stale_bundle.h); none by default.
  // Set before the first task is created (not thread-safe); not owned.
  void useShimHost(ShimHost* host) { shim_host_ = host; }

  // The task, or nullopt when there is none.
  Result<std::optional<containerd::TaskState>> state(std::string_view ns, std::string_view id);

  // Makes the rootfs snapshot on `image_chain_id` (none when empty: a host directory),
  // then creates and starts the task of a record Run just made. On failure everything is
  // discarded, the record included, and the error says which step failed. A log an earlier
  // container of the name left in place is retired first: the new one starts a fresh log.
  Result<containerd::TaskState> startNew(std::string_view ns, std::string_view id,
                                         std::string_view image_chain_id);
  // Replaces an exited task by a new one with the same stdio and rootfs and starts it;
  // returns the new pid. The record stays whatever happens.
  Result<std::uint32_t> restart(std::string_view ns, std::string_view id);
  // SIGTERM, up to `shutdown_timeout`, SIGKILL to every process, then the task, the record,
  // the snapshot (when `has_snapshot`) and the empty cgroups go; the log is retired.
  // `known_stopped`: the caller saw the task stopped or absent under the container's lock,
  // so it is not asked for again.
  Status stopAndRemove(std::string_view ns, std::string_view id,
                       std::chrono::milliseconds shutdown_timeout, bool has_snapshot,
                       bool known_stopped = false);
  // Deletes the task of a container at rest (its shim goes; record, snapshot and log
  // stay), killing what still runs. No task is not an error.
  Status release(std::string_view ns, std::string_view id);
  // SIGTERM, up to `shutdown_timeout`, SIGKILL; returns how the process ended (the task
  // stays, stopped). kFailedPrecondition when there is no task.
  Result<containerd::ExitStatus> stop(std::string_view ns, std::string_view id,
                                      std::chrono::milliseconds shutdown_timeout);
  // Sends `signal` to the task's init process.
  Status signal(std::string_view ns, std::string_view id, int signal);
  // Gives the running task the cgroup limits `resources_json` (liveLimits, spec_builder.h).
  // Errors as containerd::Client::updateTask.
  Status updateLimits(std::string_view ns, std::string_view id, std::string_view resources_json);
  // Best effort removal of whatever exists (a Run that died half-way); logs what failed.
  void discard(std::string_view ns, std::string_view id);
  // The container's cgroups and its namespace's parent, where empty (cgroups.h).
  void removeEmptyCgroups(std::string_view ns, std::string_view id) {
    cgroups_.removeEmpty(ns, id);
  }

private:
  // tasks.Create; on ALREADY_EXISTS (a task an interrupted Run left) removes that task, on
  // "mkdir <bundle>: file exists" (a bundle with no shim, stale_bundle.h) removes that
  // bundle when a ShimHost is set, and tries once more.
  Result<containerd::TaskState> createTask(std::string_view ns, std::string_view id,
                                           const containerd::TaskIo& io);
  // What an interrupted Run left that makes tasks.Create fail with `error`, removed;
  // nullopt when `error` is no such failure (the caller returns it as it is).
  std::optional<Status> removeStaleLeftovers(std::string_view ns, std::string_view id,
                                             const Error& error);
  Status stopTask(std::string_view ns, std::string_view id, const containerd::TaskState& task,
                  std::chrono::milliseconds shutdown_timeout);
  // SIGKILL to every process unless `status` says it has exited, wait, delete the task.
  Status killAndDeleteTask(std::string_view ns, std::string_view id,
                           containerd::TaskStatus status = containerd::TaskStatus::kUnknown);
  // After task Create ran out of time: ends a log driver that never got ready.
  void endStuckLogger(std::string_view ns, std::string_view id);

  containerd::Client& client_;
  ContainerStore& store_;
  const LogFiles& logs_;
  LogRetention& retention_;
  images::ImageStore* images_;
  TaskOptions options_;
  CgroupParents cgroups_;
  ShimHost* shim_host_ = nullptr;
};

}  // namespace contd::container
