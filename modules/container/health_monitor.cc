#include "modules/container/health_monitor.h"

#include <set>

#include "modules/common/logging.h"
#include "modules/container/health_state.h"
#include "modules/container/lifecycle_labels.h"
#include "modules/container/stored_spec.h"

namespace contd::container {
namespace {

using containerd::TaskStatus;
using namespace std::chrono_literals;

std::string key(std::string_view ns, std::string_view id) {
  return std::string(ns) + "/" + std::string(id);
}

Error notRunning(std::string_view id) {
  return failedPrecondition("'" + std::string(id) + "' does not run");
}

std::int64_t nanos(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

}  // namespace

HealthMonitor::HealthMonitor(ContainerStore& store, TaskControl& tasks, EventBus& events,
                             HealthProbe probe,
                             std::function<std::chrono::milliseconds()> default_timeout)
    : store_(store),
      tasks_(tasks),
      events_(events),
      probe_(std::move(probe)),
      default_timeout_(std::move(default_timeout)) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start(std::size_t workers) {
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  {
    std::lock_guard lock(mu_);
    scheduler_ = std::make_unique<Scheduler>(workers);
  }
  // Listening before the first look: a start between the two is in the queue.
  listener_ = events_.listen();
  thread_ = std::thread([this] { follow(); });
}

void HealthMonitor::stop() {
  stopping_ = true;
  if (listener_) {
    listener_->close();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  std::unique_ptr<Scheduler> scheduler;
  {
    std::lock_guard lock(mu_);
    scheduler = std::move(scheduler_);
  }
  scheduler.reset();  // drops queued checks, waits for running ones (cut short by stopping_)
  listener_.reset();
}

void HealthMonitor::follow() {
  resync();
  std::uint64_t dropped = 0;
  while (!stopping_) {
    auto event = listener_->next(200ms);
    if (listener_->dropped() != dropped) {
      // Fell behind: starts may be among the lost events, so look at everything again.
      dropped = listener_->dropped();
      log::container()->warn("health monitor fell behind the events dropped={}", dropped);
      resync();
    }
    if (event) {
      onEvent(*event);
    }
  }
}

void HealthMonitor::onEvent(const ModuleEvent& event) {
  using Kind = ModuleEvent::Kind;
  if (event.kind == Kind::kStarted || event.kind == Kind::kRestarted) {
    auto record = store_.get(event.ns, event.id);
    auto stored = record ? readStoredSpec(*record) : Result<StoredSpec>(record.error());
    if (stored && stored->spec.health) {
      track(event.ns, event.id, event.pid, stored->spec.health->interval);
    }
    return;
  }
  std::lock_guard lock(mu_);
  auto it = entries_.find(key(event.ns, event.id));
  if (it == entries_.end()) {
    return;
  }
  if (event.kind == Kind::kExited || event.kind == Kind::kStopped) {
    it->second.generation = ++next_generation_;  // no more checks; the state stays
  } else if (event.kind == Kind::kDeleted) {
    entries_.erase(it);
  }
}

void HealthMonitor::resync() {
  auto namespaces = store_.allNamespaces();
  if (!namespaces) {
    log::container()->warn("health monitor: list namespaces error=\"{}\"",
                           namespaces.error().message);
    return;
  }
  std::set<std::string> seen;
  for (const auto& ns : *namespaces) {
    auto records = store_.list(ns);
    if (!records) {
      log::container()->warn("health monitor: list ns={} error=\"{}\"", ns,
                             records.error().message);
      continue;
    }
    for (const auto& record : *records) {
      seen.insert(key(ns, record.id));
      const Lifecycle lifecycle = lifecycleFrom(record.labels);
      auto stored = readStoredSpec(record);
      if (lifecycle.stopping || lifecycle.state != PolicyState::kNone || !stored ||
          !stored->spec.health) {
        continue;
      }
      auto task = tasks_.state(ns, record.id);
      if (task && *task && (*task)->status == TaskStatus::kRunning) {
        track(ns, record.id, (*task)->pid, stored->spec.health->interval);
      }
    }
  }
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [&](const auto& entry) { return !seen.contains(entry.first); });
}

HealthMonitor::Entry& HealthMonitor::entryFor(const std::string& key, std::uint32_t pid) {
  Entry& entry = entries_[key];
  if (entry.pid != pid) {
    restartHealth(entry.state);
    entry.pid = pid;
    entry.started = unixNanosNow();
  }
  return entry;
}

void HealthMonitor::track(const std::string& ns, const std::string& id, std::uint32_t pid,
                          std::chrono::milliseconds interval) {
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    Entry& entry = entryFor(key(ns, id), pid);
    entry.interval = interval;
    entry.generation = ++next_generation_;
    generation = entry.generation;
  }
  log::container()->debug("health checks ns={} id={} pid={} interval_ms={}", ns, id, pid,
                          interval.count());
  schedule(ns, id, generation, interval);
}

void HealthMonitor::schedule(const std::string& ns, const std::string& id,
                             std::uint64_t generation, std::chrono::milliseconds after) {
  std::lock_guard lock(mu_);
  if (!scheduler_ || stopping_) {
    return;
  }
  scheduler_->postAt(Scheduler::Clock::now() + after,
                     [this, ns, id, generation] { scheduledCheck(ns, id, generation); });
}

void HealthMonitor::scheduledCheck(const std::string& ns, const std::string& id,
                                   std::uint64_t generation) {
  const auto current = [&] {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key(ns, id));
    return it != entries_.end() && it->second.generation == generation ? it->second.interval
                                                                       : 0ms;
  };
  if (current() == 0ms) {
    return;  // stopped, restarted or deleted since this check was planned
  }
  auto run = check(ns, id);
  if (!run) {
    const Code code = run.error().code;
    if (code == Code::kCancelled || code == Code::kNotFound || code == Code::kFailedPrecondition) {
      // Nothing to check any more: the next start (an event) plans checks again.
      log::container()->debug("health check ends ns={} id={} reason=\"{}\"", ns, id,
                              run.error().message);
      return;
    }
    log::container()->warn("health check ns={} id={} error=\"{}\"", ns, id, run.error().message);
  }
  if (const auto interval = current(); interval != 0ms) {
    schedule(ns, id, generation, interval);
  }
}

Result<HealthCheckRun> HealthMonitor::runNow(std::string_view ns, std::string_view id) {
  return check(ns, id);
}

std::optional<HealthState> HealthMonitor::state(std::string_view ns, std::string_view id,
                                                std::uint32_t pid) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key(ns, id));
  if (it == entries_.end()) {
    return std::nullopt;
  }
  HealthState state = it->second.state;
  if (pid != 0 && pid != it->second.pid) {
    restartHealth(state);  // started again, not checked yet
  }
  return state;
}

Result<HealthCheckRun> HealthMonitor::check(std::string_view ns, std::string_view id) {
  Target target;
  {
    auto guard = store_.lock(ns, id);
    auto found = this->target(ns, id, nullptr);
    if (!found) {
      return found.error();
    }
    target = std::move(found).value();
  }
  {
    std::lock_guard lock(mu_);
    entryFor(key(ns, id), target.pid);  // a process first seen now starts now
  }
  bool cancelled = false;
  const HealthResult result = probe(ns, id, target, cancelled);
  if (cancelled) {
    return Error{Code::kCancelled, "health check of '" + std::string(id) + "' cut short"};
  }
  auto guard = store_.lock(ns, id);
  Lifecycle lifecycle;
  auto now = this->target(ns, id, &lifecycle);
  if (!now) {
    if (now.error().code == Code::kNotFound) {
      std::lock_guard lock(mu_);
      entries_.erase(key(ns, id));  // gone while it was checked: forgotten
    }
    return now.error().wrap("after the health check");
  }
  if (now->pid != target.pid) {
    return failedPrecondition("'" + std::string(id) + "' was restarted while it was checked");
  }
  HealthState state = record(ns, id, *now, result, std::move(lifecycle));
  HealthResult recorded = state.log.back();
  return HealthCheckRun{.result = std::move(recorded), .state = std::move(state)};
}

Result<HealthMonitor::Target> HealthMonitor::target(std::string_view ns, std::string_view id,
                                                    Lifecycle* lifecycle_out) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  Lifecycle lifecycle = lifecycleFrom(record->labels);
  if (lifecycle.stopping) {
    return failedPrecondition("'" + std::string(id) + "' is being deleted");
  }
  auto stored = readStoredSpec(*record);
  if (!stored) {
    return stored.error();
  }
  if (!stored->spec.health) {
    return failedPrecondition("'" + std::string(id) + "' has no health check");
  }
  if (lifecycle.state != PolicyState::kNone) {
    return notRunning(id);
  }
  auto task = tasks_.state(ns, id);
  if (!task) {
    return task.error();
  }
  if (!*task || (*task)->status != TaskStatus::kRunning) {
    return notRunning(id);
  }
  const ContainerSpec& spec = stored->spec;
  if (lifecycle_out != nullptr) {
    *lifecycle_out = std::move(lifecycle);
  }
  return Target{
      .check = *spec.health,
      .pid = (*task)->pid,
      .mode = spec.restart == RestartMode::kDefault ? RestartMode::kAlways : spec.restart,
      .shutdown_timeout =
          spec.shutdown_timeout.count() > 0 ? spec.shutdown_timeout : default_timeout_()};
}

HealthResult HealthMonitor::probe(std::string_view ns, std::string_view id, const Target& target,
                                  bool& cancelled) {
  HealthResult result;
  result.start = unixNanosNow();
  auto ran = probe_(ns, id, target.check.argv, target.check.timeout,
                    [this] { return stopping_.load(); });
  result.end = unixNanosNow();
  if (!ran) {
    cancelled = ran.error().code == Code::kCancelled;
    result.output = "the health check could not run: " + ran.error().message;
  } else if (ran->timed_out) {
    result.output = ran->output;
    if (!result.output.empty() && result.output.back() != '\n') {
      result.output += '\n';
    }
    result.output += "the health check timed out after " +
                     std::to_string(target.check.timeout.count()) + " ms and was killed";
  } else {
    result.exit_code = ran->exit_code;
    result.output = std::move(ran->output);
  }
  return result;
}

HealthState HealthMonitor::record(std::string_view ns, std::string_view id, const Target& target,
                                  const HealthResult& result, Lifecycle lifecycle) {
  HealthState state;
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    Entry& entry = entryFor(key(ns, id), target.pid);
    entry.interval = target.check.interval;
    const bool in_start_period = target.check.start_period.count() > 0 &&
                                 result.start < entry.started + nanos(target.check.start_period);
    changed = recordHealthResult(entry.state, result, target.check.retries, in_start_period);
    state = entry.state;
  }
  log::container()->debug("health check ns={} id={} code={} ms={} status={} streak={}", ns, id,
                          result.exit_code, (result.end - result.start) / 1'000'000,
                          healthStatusName(state.status), state.failing_streak);
  if (changed && state.status == HealthStatus::kHealthy) {
    log::container()->info("healthy ns={} id={}", ns, id);
    events_.publish({.kind = ModuleEvent::Kind::kHealthy,
                     .ns = std::string(ns),
                     .id = std::string(id),
                     .time = result.end});
  } else if (changed) {
    endUnhealthy(ns, id, target, std::move(lifecycle), state.failing_streak);
  }
  return state;
}

void HealthMonitor::endUnhealthy(std::string_view ns, std::string_view id, const Target& target,
                                 Lifecycle lifecycle, std::uint32_t streak) {
  const auto log = log::container();
  const std::string mode(restartModeName(target.mode));
  const bool end = target.mode != RestartMode::kNo;
  log->warn("unhealthy ns={} id={} streak={} restart={} action={}", ns, id, streak, mode,
            end ? "stop" : "none");
  events_.publish({.kind = ModuleEvent::Kind::kUnhealthy,
                   .ns = std::string(ns),
                   .id = std::string(id),
                   .message = std::to_string(streak) + " checks failed in a row; " +
                              (end ? "ended for restart mode " + mode
                                   : "left running (restart mode no)")});
  if (!end) {
    return;
  }
  // Saved before the signal: the exit that follows is recorded as unhealthy, a failure.
  lifecycle.health_kill = true;
  if (auto saved = store_.saveLifecycle(ns, id, lifecycle); !saved) {
    log->warn("unhealthy ns={} id={} mark error=\"{}\"", ns, id, saved.error().message);
    return;
  }
  if (auto ended = tasks_.stop(ns, id, target.shutdown_timeout); !ended) {
    log->warn("unhealthy ns={} id={} stop error=\"{}\"", ns, id, ended.error().message);
    lifecycle.health_kill = false;  // a later exit of this process is not the health check's
    (void)store_.saveLifecycle(ns, id, lifecycle);
  }
}

}  // namespace contd::container
