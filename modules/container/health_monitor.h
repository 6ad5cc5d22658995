#pragma once
// Runs the health checks of running containers (docs/lifecycle.md, "Health checks") and
// keeps what they found, in memory: after a restart of contd every running container is
// starting again until its next check.
//
//   STARTED, RESTARTED event     -> starting (streak 0, log kept); first check after interval
//   each check                   -> the result recorded (health_state.h); HEALTHY or UNHEALTHY
//                                   published when the status changes; next check `interval`
//                                   after this one ended
//   unhealthy, restart mode no   -> left running, unhealthy
//   unhealthy, on-failure/always -> ended like Stop ends it (SIGTERM, its shutdown timeout,
//                                   SIGKILL) with the exit marked unhealthy (Lifecycle's
//                                   health_kill): the Supervisor then judges that exit like
//                                   any other, as a failure, with its delays and give-up rule
//   EXITED, STOPPED events       -> no more checks; the state stays for Inspect
//   DELETED event                -> forgotten
//
// A check takes the container's lock to look at it and again to record its result, not
// while the command runs: a container being deleted, stopped, backing off, failed or
// running another process than the one checked is not checked, and a result that arrives
// after such a change is dropped. Checks run on a Scheduler of a few threads, so many
// containers never mean many threads (checks wait their turn); the module's events are
// read on one thread of the monitor's own.
//
// Thread-safety: every method from any thread; start()/stop() from one owner.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/container/container_store.h"
#include "modules/container/event_bus.h"
#include "modules/container/exec_runner.h"
#include "modules/container/scheduler.h"
#include "modules/container/task_control.h"

namespace contd::container {

// What runs one check: `argv` in the running container `id`, killed after `timeout`;
// `cancelled` is asked while it runs (true: end it, the run fails). The error when it could
// not be run. contd's own runs it like Exec (ContainerService); unit tests feed results.
using HealthProbe = std::function<Result<ExecResult>(
    std::string_view ns, std::string_view id, const std::vector<std::string>& argv,
    std::chrono::milliseconds timeout, const std::function<bool()>& cancelled)>;

// RunHealthCheck's answer: this run, and the container's health after it.
struct HealthCheckRun {
  HealthResult result;
  HealthState state;
};

class HealthMonitor {
public:
  // `default_timeout` gives the shutdown timeout of containers that set none. None is owned.
  HealthMonitor(ContainerStore& store, TaskControl& tasks, EventBus& events, HealthProbe probe,
                std::function<std::chrono::milliseconds()> default_timeout);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Follows the module's events and checks every running container with a health check,
  // starting with those that run now, on `workers` threads. Returns at once.
  void start(std::size_t workers = kHealthWorkers);
  // No more checks: queued ones are dropped, running ones cut short (results dropped).
  // Containers are not touched.
  void stop();

  // Runs the check of `id` now and records its result like a periodic one's.
  // kNotFound; kFailedPrecondition when it has no health check, does not run, is being
  // deleted, or stopped while it was checked.
  Result<HealthCheckRun> runNow(std::string_view ns, std::string_view id);

  // What the checks of `id` found, for Inspect: of the process `pid` (0: none runs, the
  // last one checked), starting when it is another process than the one checked (its log
  // kept); nullopt when this contd knows nothing of it.
  std::optional<HealthState> state(std::string_view ns, std::string_view id,
                                   std::uint32_t pid) const;

  static constexpr std::size_t kHealthWorkers = 2;

private:
  using Clock = std::chrono::steady_clock;
  // What contd knows of one container's health.
  struct Entry {
    HealthState state;
    std::uint32_t pid = 0;          // the process `state` is about
    UnixNanos started = 0;          // its start period counts from here
    std::chrono::milliseconds interval{0};
    std::uint64_t generation = 0;   // a scheduled check of another generation does nothing
  };
  // A container found fit to check, under its lock.
  struct Target {
    HealthCheckSpec check;
    std::uint32_t pid = 0;
    RestartMode mode = RestartMode::kAlways;
    std::chrono::milliseconds shutdown_timeout{0};
  };

  void follow();
  void onEvent(const ModuleEvent& event);
  // Looks at every managed container and follows those that run with a health check.
  void resync();
  // `id` runs `pid` (started now, or found running): starting unless that process was
  // known already; checks scheduled every `interval`.
  void track(const std::string& ns, const std::string& id, std::uint32_t pid,
             std::chrono::milliseconds interval);
  // Requires mu_: the entry of a process, made starting when it is another process.
  Entry& entryFor(const std::string& key, std::uint32_t pid);
  void schedule(const std::string& ns, const std::string& id, std::uint64_t generation,
                std::chrono::milliseconds after);
  void scheduledCheck(const std::string& ns, const std::string& id, std::uint64_t generation);
  // One check: kNotFound / kFailedPrecondition when there is nothing to check (see runNow),
  // kCancelled when stop() cut it short.
  Result<HealthCheckRun> check(std::string_view ns, std::string_view id);
  // Requires the container's lock.
  Result<Target> target(std::string_view ns, std::string_view id, Lifecycle* lifecycle);
  HealthResult probe(std::string_view ns, std::string_view id, const Target& target,
                     bool& cancelled);
  // Requires the container's lock: the result recorded, events, the restart mode's answer.
  HealthState record(std::string_view ns, std::string_view id, const Target& target,
                     const HealthResult& result, Lifecycle lifecycle);
  void endUnhealthy(std::string_view ns, std::string_view id, const Target& target,
                    Lifecycle lifecycle, std::uint32_t streak);

  ContainerStore& store_;
  TaskControl& tasks_;
  EventBus& events_;
  HealthProbe probe_;
  std::function<std::chrono::milliseconds()> default_timeout_;

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;  // by "ns/id"
  std::uint64_t next_generation_ = 0;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<EventBus::Listener> listener_;
  std::thread thread_;
  std::unique_ptr<Scheduler> scheduler_;  // guarded by mu_ (reset by stop)
};

}  // namespace contd::container
