#include "modules/container/supervisor.h"

#include <algorithm>

#include "modules/common/logging.h"
#include "modules/container/lifecycle_labels.h"
#include "modules/container/orphan_shims.h"
#include "modules/container/stored_spec.h"

namespace contd::container {
namespace {

using containerd::TaskStatus;
using namespace std::chrono_literals;

std::string key(const std::string& ns, const std::string& id) { return ns + "/" + id; }

constexpr auto kReconnectMin = 100ms;
constexpr auto kReconnectMax = 5s;

}  // namespace

Supervisor::Supervisor(containerd::EventSource& events, ContainerStore& store, TaskControl& tasks,
                       EventBus& bus, RestartPolicy policy, ShimHost* host)
    : events_(events), store_(store), tasks_(tasks), bus_(bus), host_(host), policy_(policy) {}

Supervisor::~Supervisor() { stop(); }

void Supervisor::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  scheduler_ = std::make_unique<Scheduler>(4);
  thread_ = std::thread([this] { connectionLoop(); });
}

void Supervisor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  scheduler_.reset();  // drops queued restarts, waits for running ones
  std::lock_guard lock(mu_);
  scheduled_.clear();
}

void Supervisor::setPolicy(RestartPolicy policy) {
  std::lock_guard lock(mu_);
  policy_ = policy;
}

bool Supervisor::waitUntilWatching(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return watching_; });
}

void Supervisor::connectionLoop() {
  const auto log = log::container();
  auto backoff = std::chrono::milliseconds(kReconnectMin);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    // Subscribe first, then reconcile: whatever happens between the two is seen by one of them.
    auto broken = std::make_shared<std::atomic<bool>>(false);
    auto subscription = events_.subscribe(
        {"/tasks/exit", "/tasks/oom"}, [this](const containerd::Event& e) { onEvent(e); },
        [this, broken](const Error& error) {
          log::container()->warn("event stream broke error=\"{}\"", error.message);
          broken->store(true);
          changed_.notify_all();
        });
    if (subscription) {
      if (auto seen = reconcile(); seen) {
        log->info("watching containerd events; reconciled containers={}", *seen);
        backoff = kReconnectMin;
      } else {
        log->warn("reconcile failed error=\"{}\"", seen.error().message);
      }
    } else {
      log->warn("subscribe to containerd events failed error=\"{}\" retry_ms={}",
                subscription.error().message, backoff.count());
    }
    lock.lock();
    watching_ = subscription.ok();
    changed_.notify_all();
    if (subscription) {
      changed_.wait(lock, [&] { return stopping_ || broken->load(); });
    } else {
      changed_.wait_for(lock, backoff, [&] { return stopping_; });
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kReconnectMax);
    }
    watching_ = false;
    lock.unlock();
    subscription = Error{};  // ends the stream before the next try
    lock.lock();
  }
}

void Supervisor::onEvent(const containerd::Event& event) {
  if (event.kind == containerd::Event::Kind::kTaskOom) {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      first = oom_seen_.insert(key(event.ns, event.container_id)).second;
    }
    // containerd sends many /tasks/oom for one OOM: publish the first only.
    if (first) {
      log::container()->warn("oom ns={} id={}", event.ns, event.container_id);
      bus_.publish({.kind = ModuleEvent::Kind::kOom,
                                 .ns = event.ns,
                                 .id = event.container_id});
    }
    return;
  }
  if (event.kind != containerd::Event::Kind::kTaskExit ||
      (!event.process_id.empty() && event.process_id != event.container_id)) {
    return;  // an exec'd process, not the container's init
  }
  std::lock_guard lock(mu_);
  if (scheduler_) {
    scheduler_->post([this, ns = event.ns, id = event.container_id,
                      exit = Observed{event.timestamp, static_cast<std::int32_t>(event.exit_status)}] {
      evaluate(ns, id, exit);
    });
  }
}

bool Supervisor::takeOom(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  return oom_seen_.erase(key(ns, id)) > 0;
}

Result<std::size_t> Supervisor::reconcile() {
  auto namespaces = store_.allNamespaces();
  if (!namespaces) {
    return namespaces.error();
  }
  std::size_t seen = 0;
  for (const auto& ns : *namespaces) {
    auto records = store_.list(ns);
    if (!records) {
      return records.error().wrap("reconcile '" + ns + "'");
    }
    for (const auto& record : *records) {
      evaluate(ns, record.id, std::nullopt);
      ++seen;
    }
  }
  if (host_ != nullptr) {
    if (const auto ended = endOrphans(*host_, store_, tasks_); ended > 0) {
      log::container()->info("reconcile ended orphans={}", ended);
    }
    std::lock_guard lock(mu_);
    if (scheduler_ && !stopping_) {
      scheduler_->postAt(Scheduler::Clock::now() + orphan_recheck_, [this] {
        if (const auto ended = endOrphans(*host_, store_, tasks_); ended > 0) {
          log::container()->info("orphan recheck ended orphans={}", ended);
        }
      });
    }
  }
  return seen;
}

void Supervisor::setOrphanRecheck(std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  orphan_recheck_ = delay;
}

void Supervisor::evaluate(const std::string& ns, const std::string& id,
                          std::optional<Observed> exit) {
  auto guard = store_.lock(ns, id);
  evaluateLocked(ns, id, exit);
}

void Supervisor::evaluateLocked(const std::string& ns, const std::string& id,
                                std::optional<Observed> observed) {
  const auto log = log::container();
  auto record = store_.get(ns, id);
  if (!record) {
    return;  // deleted meanwhile, or not ours
  }
  Lifecycle lifecycle = lifecycleFrom(record->labels);
  auto state = tasks_.state(ns, id);
  if (!state) {
    log->warn("evaluate ns={} id={} error=\"{}\"", ns, id, state.error().message);
    return;
  }
  const std::optional<containerd::TaskState>& task = *state;
  if (task && task->status != TaskStatus::kStopped && task->status != TaskStatus::kCreated) {
    return;  // alive (or a stale event of an earlier incarnation): adopted untouched
  }

  std::optional<Termination> exit;
  if (task && task->status == TaskStatus::kStopped) {
    exit = Termination{.time = task->exited_at,
                       .code = static_cast<std::int32_t>(task->exit_status)};
  } else if (observed) {
    exit = Termination{.time = observed->time, .code = observed->code};
  }
  const bool never_ran = lifecycle.exits.empty() && lifecycle.restarts == 0;
  if (!exit && never_ran && !lifecycle.stopping) {
    // Created by a Run that died before starting it: nothing ever ran, nobody got an id.
    log->info("discarding half-created ns={} id={}", ns, id);
    tasks_.discard(ns, id);
    return;
  }

  OwnPolicy own;
  own.has_snapshot = !record->snapshot_key.empty();
  own.task_stopped = !task || task->status == TaskStatus::kStopped;
  if (auto stored = readStoredSpec(*record); stored) {
    own.mode = stored->spec.restart == RestartMode::kDefault ? RestartMode::kAlways
                                                               : stored->spec.restart;
    own.max = stored->spec.restart_max;
    own.auto_remove = stored->spec.auto_remove;
  }
  const bool recorded =
      exit && !lifecycle.exits.empty() && lifecycle.exits.back().time == exit->time;
  std::optional<ModuleEvent> exited;
  if (exit && !recorded) {
    exit->oom_killed = takeOom(ns, id);
    addExit(lifecycle, *exit);
    const Termination& added = lifecycle.exits.back();  // marked unhealthy by a health kill
    log->info("exited ns={} id={} code={} oom={} unhealthy={}", ns, id, added.code,
              added.oom_killed, added.unhealthy);
    // Published once the exit is saved, so a listener that inspects sees it.
    exited = ModuleEvent{.kind = ModuleEvent::Kind::kExited,
                         .ns = ns,
                         .id = id,
                         .time = added.time,
                         .exit_code = added.code,
                         .message = added.oom_killed  ? "oom-killed"
                                    : added.unhealthy ? "unhealthy"
                                                      : ""};
  }
  decide(ns, id, own, lifecycle, exit && !recorded, std::move(exited));
}

void Supervisor::decide(const std::string& ns, const std::string& id, const OwnPolicy& own,
                        Lifecycle lifecycle, bool new_exit, std::optional<ModuleEvent> exited) {
  const auto log = log::container();
  auto publishExit = [&] {
    if (exited) {
      bus_.publish(*exited);
      exited.reset();
    }
  };
  if (lifecycle.stopping || lifecycle.state == PolicyState::kFailed ||
      lifecycle.state == PolicyState::kStopped) {
    if (new_exit) {
      (void)store_.saveLifecycle(ns, id, lifecycle);
    }
    publishExit();
    if (lifecycle.state == PolicyState::kStopped && !lifecycle.stopping) {
      settle(ns, id, own);  // what Stop or an earlier rest() could not finish
    }
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (scheduled_.contains(key(ns, id))) {
      publishExit();
      return;  // a restart is already on its way
    }
  }
  std::int64_t at = lifecycle.next_retry;
  if (lifecycle.state != PolicyState::kBackingOff || new_exit) {
    const Termination* last = lifecycle.exits.empty() ? nullptr : &lifecycle.exits.back();
    const bool failed =
        last != nullptr && (last->code != 0 || last->oom_killed || last->unhealthy);
    if (own.mode == RestartMode::kNo || (own.mode == RestartMode::kOnFailure && !failed)) {
      rest(ns, id, own, std::move(lifecycle), std::move(exited));
      return;
    }
    if (own.mode == RestartMode::kOnFailure && own.max > 0 && lifecycle.restarts >= own.max) {
      const std::string why = std::to_string(lifecycle.restarts) + " restarts (on-failure:" +
                              std::to_string(own.max) + ")";
      giveUp(ns, id, std::move(lifecycle), std::move(exited), why);
      return;
    }
    RestartPolicy policy;
    {
      std::lock_guard lock(mu_);
      policy = policy_;
    }
    const std::int64_t now = unixNanosNow();
    const auto failures = failuresInWindow(policy, lifecycle.exits, now);
    const auto delay = nextRestartDelay(policy, failures);
    if (!delay) {
      const std::string why = std::to_string(failures) + " exits within " +
                              std::to_string(policy.window.count() / 1000) + " s";
      giveUp(ns, id, std::move(lifecycle), std::move(exited), why);
      return;
    }
    at = now + std::chrono::duration_cast<std::chrono::nanoseconds>(*delay).count();
    lifecycle.state = PolicyState::kBackingOff;
    lifecycle.next_retry = at;
    if (auto saved = store_.saveLifecycle(ns, id, lifecycle); !saved) {
      log->warn("record exit ns={} id={} error=\"{}\"", ns, id, saved.error().message);
    }
    publishExit();
    log->info("backing off ns={} id={} delay_ms={}", ns, id, delay->count());
    bus_.publish({.kind = ModuleEvent::Kind::kBackingOff,
                  .ns = ns,
                  .id = id,
                  .message = "restart in " + std::to_string(delay->count()) + " ms"});
  }
  schedule(ns, id, at);
}

void Supervisor::giveUp(const std::string& ns, const std::string& id, Lifecycle lifecycle,
                        std::optional<ModuleEvent> exited, const std::string& why) {
  lifecycle.state = PolicyState::kFailed;
  if (auto saved = store_.saveLifecycle(ns, id, lifecycle); !saved) {
    log::container()->warn("mark failed ns={} id={} error=\"{}\"", ns, id,
                           saved.error().message);
  }
  if (exited) {
    bus_.publish(*exited);
  }
  log::container()->error("gave up restarting ns={} id={} reason=\"{}\"", ns, id, why);
  bus_.publish({.kind = ModuleEvent::Kind::kGaveUp, .ns = ns, .id = id, .message = why});
}

void Supervisor::rest(const std::string& ns, const std::string& id, const OwnPolicy& own,
                      Lifecycle lifecycle, std::optional<ModuleEvent> exited) {
  const auto log = log::container();
  lifecycle.state = PolicyState::kStopped;
  // A container removed on exit is not told its exit: its record goes next (one containerd
  // write less on a run to completion). Until then a Wait reads the exit off the stopped
  // task, and the deletion event carries it (settle) for a Wait that sees only that.
  if (!own.auto_remove) {
    if (auto saved = store_.saveLifecycle(ns, id, lifecycle); !saved) {
      log->warn("record exit ns={} id={} error=\"{}\"", ns, id, saved.error().message);
    }
  }
  // Published before any removal: a Wait begun before the exit gets it.
  if (exited) {
    bus_.publish(*exited);
  }
  log->info("at rest ns={} id={} restart={}", ns, id, restartModeName(own.mode));
  settle(ns, id, own, exited ? &*exited : nullptr);
}

void Supervisor::settle(const std::string& ns, const std::string& id, const OwnPolicy& own,
                        const ModuleEvent* exited) {
  const auto log = log::container();
  if (!own.auto_remove) {
    if (auto released = tasks_.release(ns, id); !released) {
      log->warn("release task ns={} id={} error=\"{}\"", ns, id, released.error().message);
    }
    return;
  }
  if (auto removed = tasks_.stopAndRemove(ns, id, std::chrono::milliseconds(0), own.has_snapshot,
                                          own.task_stopped);
      !removed) {
    log->warn("auto-remove ns={} id={} error=\"{}\"", ns, id, removed.error().message);
    return;  // the next evaluation (an event, or reconcile) tries again
  }
  ModuleEvent deleted{.kind = ModuleEvent::Kind::kDeleted, .ns = ns, .id = id,
                      .message = "auto-remove"};
  if (exited != nullptr) {  // the exit that removed it, for Wait (control.h)
    deleted.time = exited->time;
    deleted.exit_code = exited->exit_code;
    if (!exited->message.empty()) {
      deleted.message += " " + exited->message;
    }
  }
  bus_.publish(deleted);
}

void Supervisor::schedule(const std::string& ns, const std::string& id, std::int64_t at) {
  std::lock_guard lock(mu_);
  if (!scheduler_ || stopping_) {
    return;
  }
  scheduled_.insert(key(ns, id));
  const auto wait = std::chrono::nanoseconds(std::max<std::int64_t>(0, at - unixNanosNow()));
  scheduler_->postAt(Scheduler::Clock::now() + wait, [this, ns, id] { restart(ns, id); });
}

void Supervisor::restart(const std::string& ns, const std::string& id) {
  const auto log = log::container();
  auto guard = store_.lock(ns, id);
  {
    std::lock_guard lock(mu_);
    scheduled_.erase(key(ns, id));
  }
  auto record = store_.get(ns, id);
  if (!record) {
    return;
  }
  Lifecycle lifecycle = lifecycleFrom(record->labels);
  if (lifecycle.stopping || lifecycle.state != PolicyState::kBackingOff) {
    return;
  }
  auto pid = tasks_.restart(ns, id);
  if (!pid) {
    log->warn("restart failed ns={} id={} error=\"{}\"", ns, id, pid.error().message);
    // A failed start counts as one more failure of the container.
    lifecycle.state = PolicyState::kNone;
    (void)store_.saveLifecycle(ns, id, lifecycle);
    evaluateLocked(ns, id, Observed{unixNanosNow(), -1});
    return;
  }
  lifecycle.restarts += 1;
  lifecycle.state = PolicyState::kNone;
  if (auto saved = store_.saveLifecycle(ns, id, lifecycle); !saved) {
    log->warn("record restart ns={} id={} error=\"{}\"", ns, id, saved.error().message);
  }
  log->info("restarted ns={} id={} pid={} restarts={}", ns, id, *pid, lifecycle.restarts);
  bus_.publish({.kind = ModuleEvent::Kind::kRestarted,
                             .ns = ns,
                             .id = id,
                             .pid = *pid,
                             .message = "restart " + std::to_string(lifecycle.restarts)});
}

}  // namespace contd::container
