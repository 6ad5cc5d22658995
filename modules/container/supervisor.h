#pragma once
// Keeps managed containers running: follows containerd's task events, applies the restart
// policy to containers that exit on their own, and reconciles with containerd's state at
// start and after every reconnect (events from a downtime are never replayed).
//
//   /tasks/exit of a container's init  -> record the exit (labels), then restart after the
//                                          policy's delay, or give up and mark it failed
//   /tasks/oom                          -> remembered; the next exit is recorded as OOM-killed
//   containerd gone                     -> re-subscribe with backoff, then reconcile
//
// Reconcile, per managed container: a running task is adopted untouched; a stopped one is
// handled like an exit; a container left half-made by a Run that died (no task, no exit ever
// recorded, or a task created but never started) is removed; a backing-off one gets its
// restart scheduled again at the recorded time. Then, with a ShimHost, the shims and log
// drivers of contd's containers that belong to no task are ended (orphan_shims.h).
//
// Each container's restart mode decides first (no, on-failure[:max], always; docs/lifecycle.md):
// an exit it does not restart leaves the container at rest without a task (or removes it,
// with auto_remove). Containers marked stopping (Delete, SignalDelete), stopped (Stop) or
// failed are never restarted.
// Thread-safety: all work runs on the supervisor's own threads; start()/stop() from one owner.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "modules/container/container_store.h"
#include "modules/container/event_bus.h"
#include "modules/container/lifecycle_labels.h"
#include "modules/container/restart_policy.h"
#include "modules/container/scheduler.h"
#include "modules/container/shim_host.h"
#include "modules/container/task_control.h"
#include "modules/containerd/client.h"

namespace contd::container {

class Supervisor {
public:
  // It reaches containers only through the units it shares with the operations: the
  // store (records, locks, labels) and the task control; none is owned. Without `host`
  // (may be null) orphan shims are not looked for.
  Supervisor(containerd::EventSource& events, ContainerStore& store, TaskControl& tasks,
             EventBus& bus, RestartPolicy policy, ShimHost* host = nullptr);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Subscribes, reconciles, and keeps doing so across containerd restarts, on a thread of
  // its own. Returns at once.
  void start();
  // Stops following events and cancels scheduled restarts; containers are not touched.
  void stop();

  // How long after a reconcile the orphan pass (orphan_shims.h) runs once more, for what
  // the first one had to skip (containerd still loading, a shim still exiting); 5 s.
  void setOrphanRecheck(std::chrono::milliseconds delay);
  // One reconcile pass over every namespace (also what start() runs). Returns how many
  // managed containers it looked at.
  Result<std::size_t> reconcile();

  // Applies to the next decision (SIGHUP); restarts already scheduled keep their time.
  void setPolicy(RestartPolicy policy);

  // Waits until the subscription is up (for tests and for READY=1).
  bool waitUntilWatching(std::chrono::milliseconds timeout);

private:
  struct Observed {
    std::int64_t time = 0;
    std::int32_t code = 0;
  };
  // What the container's own spec says about its end (container_spec.h).
  struct OwnPolicy {
    RestartMode mode = RestartMode::kAlways;
    std::uint32_t max = 0;
    bool auto_remove = false;
    bool has_snapshot = false;
    bool task_stopped = false;  // seen stopped or absent by this evaluation
  };

  void connectionLoop();
  void onEvent(const containerd::Event& event);
  // Decides what to do with one container; takes its lock.
  void evaluate(const std::string& ns, const std::string& id, std::optional<Observed> exit);
  void evaluateLocked(const std::string& ns, const std::string& id, std::optional<Observed> exit);
  // The restart policy's verdict on a container that does not run: record the exit, then
  // schedule a restart, give up, or leave it (stopping, failed, already scheduled).
  void decide(const std::string& ns, const std::string& id, const OwnPolicy& own,
              Lifecycle lifecycle, bool new_exit, std::optional<ModuleEvent> exited);
  // The container's mode does not restart this exit: at rest (kStopped) without a task,
  // or removed with auto_remove.
  void rest(const std::string& ns, const std::string& id, const OwnPolicy& own,
            Lifecycle lifecycle, std::optional<ModuleEvent> exited);
  // A container at rest: its task deleted, or with auto_remove the container removed.
  // `exited`: the exit that put it at rest, when known (carried by an auto-remove's
  // deletion event).
  void settle(const std::string& ns, const std::string& id, const OwnPolicy& own,
              const ModuleEvent* exited = nullptr);
  void giveUp(const std::string& ns, const std::string& id, Lifecycle lifecycle,
              std::optional<ModuleEvent> exited, const std::string& why);
  void restart(const std::string& ns, const std::string& id);
  void schedule(const std::string& ns, const std::string& id, std::int64_t at_unix_nanos);
  bool takeOom(const std::string& ns, const std::string& id);

  containerd::EventSource& events_;
  ContainerStore& store_;
  TaskControl& tasks_;
  EventBus& bus_;
  ShimHost* host_;
  RestartPolicy policy_;  // guarded by mu_

  std::mutex mu_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool watching_ = false;
  std::set<std::string> oom_seen_;   // "ns/id": an OOM since the last recorded exit
  std::set<std::string> scheduled_;  // "ns/id": a restart is queued
  std::thread thread_;
  std::unique_ptr<Scheduler> scheduler_;
  std::chrono::milliseconds orphan_recheck_{5000};  // guarded by mu_
};

}  // namespace contd::container
