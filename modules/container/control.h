#pragma once
// Moving a container between its states once Run made it (docs/lifecycle.md): Stop (it
// stays, at rest, and is not restarted), Start (runs a stopped or failed container again
// from its stored spec), Restart, Kill (any signal; what follows is its restart mode's
// business) and Wait (until its process exits); and Update, which changes the cgroup limits
// of a container in any state.
//
// Every call takes the container's lock (ContainerStore::lock) except Wait, which listens
// on the module's event bus. Thread-safety: any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/container/container_store.h"
#include "modules/container/event_bus.h"
#include "modules/container/task_control.h"

namespace contd::container {

// How a container's process ended, as Wait answers.
struct WaitResult {
  Termination exit;        // time, exit code (128+N for signal N), OOM flag
  std::int32_t signal = 0;  // N when exit.code is 128+N (a shell's reading), else 0
};

class ContainerControl {
public:
  // `default_timeout` gives the shutdown timeout of containers that set none, and
  // `default_pids_limit` the pids limit of an Update to pids_limit 0 (both may change at
  // SIGHUP, hence functions). None is owned.
  ContainerControl(ContainerStore& store, TaskControl& tasks, EventBus& events,
                   std::function<std::chrono::milliseconds()> default_timeout,
                   std::function<std::int64_t()> default_pids_limit);

  // SIGTERM, the container's shutdown timeout (`timeout` when given), SIGKILL; the exit is
  // recorded, the task deleted and the container stays STOPPED until Start. A container
  // that does not run (stopped, backing off, failed) is put at rest at once. Idempotent.
  // kFailedPrecondition while Delete or SignalDelete removes it.
  Status stop(std::string_view ns, std::string_view id,
              std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Runs a container that does not run (stopped, failed, backing off: at once) from its
  // stored spec, with its restart count reset; returns its pid. A running container is
  // left alone (its pid). kFailedPrecondition while it is being removed.
  Result<std::uint32_t> start(std::string_view ns, std::string_view id);
  // Stop, then Start.
  Result<std::uint32_t> restart(std::string_view ns, std::string_view id,
                                std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Sends `signal` (1..64) to the container's init process. kFailedPrecondition when it
  // does not run; kInvalidArgument (field "signal") for another number.
  Status kill(std::string_view ns, std::string_view id, int signal);
  // Returns when the container's process exits: at once with the last exit for one that
  // does not run; with the next exit for one that runs (also when auto_remove then removes
  // it). kNotFound for an unknown container, or one deleted before its process exited;
  // kCancelled when `cancelled` says so (asked every 200 ms).
  Result<WaitResult> wait(std::string_view ns, std::string_view id,
                          const std::function<bool()>& cancelled);
  // Changes the limits `limits` sets (validateLimits' rules; kInvalidArgument naming the
  // field, or when none is set) and keeps them in the stored spec, so that Inspect and every
  // later task (Start, a restart by the policy) have them. A running container gets them at
  // once (tasks.Update) before they are stored; when that fails nothing is stored
  // (kFailedPrecondition naming memory_bytes for a memory limit below what it uses on cgroup
  // v1), and when storing fails the running task is given its old limits back. One that does
  // not run only has them stored. kFailedPrecondition while it is being deleted.
  Status update(std::string_view ns, std::string_view id, const LimitsUpdate& limits);

private:
  std::chrono::milliseconds shutdownTimeout(const containerd::ContainerRecord& record) const;
  Status stopLocked(std::string_view ns, std::string_view id,
                    std::optional<std::chrono::milliseconds> timeout);
  Result<std::uint32_t> startLocked(std::string_view ns, std::string_view id);
  // Update's tasks.Update of the running task with `runtime`'s limits: true when done, false
  // when the task ended before it (the next task gets the stored limits anyway).
  Result<bool> updateLive(std::string_view ns, std::string_view id, const nlohmann::json& runtime,
                          const LimitsUpdate& limits);

  ContainerStore& store_;
  TaskControl& tasks_;
  EventBus& events_;
  std::function<std::chrono::milliseconds()> default_timeout_;
  std::function<std::int64_t()> default_pids_limit_;
};

}  // namespace contd::container
