#include "modules/container/control.h"

#include <signal.h>

#include <nlohmann/json.hpp>

#include "modules/common/logging.h"
#include "modules/container/lifecycle_labels.h"
#include "modules/container/spec_builder.h"
#include "modules/container/stored_spec.h"
#include "modules/container/validation.h"

namespace contd::container {
namespace {

using containerd::TaskStatus;
using namespace std::chrono_literals;

constexpr int kMaxSignal = 64;
constexpr auto kWaitPoll = 200ms;

Error beingRemoved(std::string_view id) {
  return failedPrecondition("'" + std::string(id) + "' is being deleted");
}

bool runs(const std::optional<containerd::TaskState>& task) {
  return task && task->status != TaskStatus::kStopped;
}

WaitResult waitResult(const Termination& exit) {
  WaitResult out{.exit = exit};
  if (exit.code > 128 && exit.code <= 128 + kMaxSignal) {
    out.signal = exit.code - 128;
  }
  return out;
}

// The exit of a container that does not run, or nullopt when it runs (or is about to:
// a Run or a restart is between two tasks).
std::optional<Termination> settledExit(const std::optional<containerd::TaskState>& task,
                                       const Lifecycle& lifecycle) {
  if (task && task->status == TaskStatus::kStopped) {
    if (!lifecycle.exits.empty() && lifecycle.exits.back().time == task->exited_at) {
      return lifecycle.exits.back();  // with the OOM flag the supervisor recorded
    }
    return Termination{.time = task->exited_at,
                       .code = static_cast<std::int32_t>(task->exit_status)};
  }
  const bool at_rest = lifecycle.state != PolicyState::kNone || lifecycle.stopping;
  if (!task && at_rest && !lifecycle.exits.empty()) {
    return lifecycle.exits.back();
  }
  return std::nullopt;
}

// What runc says on cgroup v1 when the kernel cannot bring the cgroup's usage below a new
// memory limit (EBUSY): "unable to set memory limit to N (current usage: U, peak usage: P)".
constexpr std::string_view kMemoryBelowUsage = "unable to set memory limit";

// A refused tasks.Update in the caller's words: a memory limit below the usage names the
// field; anything else keeps containerd's code and message.
Error updateRefused(std::string_view id, const Error& error, const LimitsUpdate& limits) {
  const auto at = error.message.find(kMemoryBelowUsage);
  if (limits.memory_bytes && at != std::string::npos) {
    std::string said = error.message.substr(at);  // runc's output, with its newline
    said.erase(said.find_last_not_of(" \n") + 1);
    return failedPrecondition("memory_bytes: " + std::to_string(*limits.memory_bytes) +
                              " is below what '" + std::string(id) +
                              "' uses, and the kernel could not free enough (runc: " + said +
                              ")");
  }
  return error.wrap("update '" + std::string(id) + "': change the limits of its process");
}

}  // namespace

ContainerControl::ContainerControl(ContainerStore& store, TaskControl& tasks, EventBus& events,
                                   std::function<std::chrono::milliseconds()> default_timeout,
                                   std::function<std::int64_t()> default_pids_limit)
    : store_(store),
      tasks_(tasks),
      events_(events),
      default_timeout_(std::move(default_timeout)),
      default_pids_limit_(std::move(default_pids_limit)) {}

std::chrono::milliseconds ContainerControl::shutdownTimeout(
    const containerd::ContainerRecord& record) const {
  if (auto stored = readStoredSpec(record); stored && stored->spec.shutdown_timeout.count() > 0) {
    return stored->spec.shutdown_timeout;
  }
  return default_timeout_();
}

Status ContainerControl::stop(std::string_view ns, std::string_view id,
                              std::optional<std::chrono::milliseconds> timeout) {
  auto guard = store_.lock(ns, id);
  return stopLocked(ns, id, timeout);
}

Status ContainerControl::stopLocked(std::string_view ns, std::string_view id,
                                    std::optional<std::chrono::milliseconds> timeout) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  Lifecycle lifecycle = lifecycleFrom(record->labels);
  if (lifecycle.stopping) {
    return beingRemoved(id);
  }
  auto task = tasks_.state(ns, id);
  if (!task) {
    return task.error().wrap("stop '" + std::string(id) + "'");
  }
  const bool was_running = runs(*task);
  // Saved before the signal: the exit that follows is not the restart policy's to judge.
  lifecycle.state = PolicyState::kStopped;
  CONTD_RETURN_IF_ERROR(store_.saveLifecycle(ns, id, lifecycle));
  if (*task) {
    auto exit = tasks_.stop(ns, id, timeout.value_or(shutdownTimeout(*record)));
    if (!exit) {
      return exit.error().wrap("stop '" + std::string(id) + "'");
    }
    const Termination ended{.time = static_cast<UnixNanos>(exit->exited_at),
                            .code = static_cast<std::int32_t>(exit->code)};
    if (lifecycle.exits.empty() || lifecycle.exits.back().time != ended.time) {
      addExit(lifecycle, ended);
      CONTD_RETURN_IF_ERROR(store_.saveLifecycle(ns, id, lifecycle));
      events_.publish({.kind = ModuleEvent::Kind::kExited,
                       .ns = std::string(ns),
                       .id = std::string(id),
                       .time = ended.time,
                       .exit_code = ended.code,
                       .message = lifecycle.exits.back().unhealthy ? "unhealthy" : ""});
    }
    CONTD_RETURN_IF_ERROR(tasks_.release(ns, id));
  }
  if (was_running) {
    log::container()->info("stopped ns={} id={}", ns, id);
    events_.publish(
        {.kind = ModuleEvent::Kind::kStopped, .ns = std::string(ns), .id = std::string(id)});
  }
  return okStatus();
}

Result<std::uint32_t> ContainerControl::start(std::string_view ns, std::string_view id) {
  auto guard = store_.lock(ns, id);
  return startLocked(ns, id);
}

Result<std::uint32_t> ContainerControl::startLocked(std::string_view ns, std::string_view id) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  Lifecycle lifecycle = lifecycleFrom(record->labels);
  if (lifecycle.stopping) {
    return beingRemoved(id);
  }
  auto task = tasks_.state(ns, id);
  if (!task) {
    return task.error().wrap("start '" + std::string(id) + "'");
  }
  if (runs(*task)) {
    return (*task)->pid;
  }
  const Lifecycle before = lifecycle;
  lifecycle.state = PolicyState::kNone;  // a queued restart finds nothing to do
  lifecycle.restarts = 0;
  CONTD_RETURN_IF_ERROR(store_.saveLifecycle(ns, id, lifecycle));
  auto pid = tasks_.restart(ns, id);
  if (!pid) {
    // Left as it was, so that nothing restarts it behind the caller's back.
    Lifecycle rest = before;
    if (rest.state == PolicyState::kNone || rest.state == PolicyState::kBackingOff) {
      rest.state = PolicyState::kStopped;
    }
    (void)store_.saveLifecycle(ns, id, rest);
    (void)tasks_.release(ns, id);
    return pid.error().wrap("start '" + std::string(id) + "'");
  }
  log::container()->info("started ns={} id={} pid={}", ns, id, *pid);
  events_.publish({.kind = ModuleEvent::Kind::kStarted,
                   .ns = std::string(ns),
                   .id = std::string(id),
                   .pid = *pid,
                   .message = "start"});
  return *pid;
}

Result<std::uint32_t> ContainerControl::restart(std::string_view ns, std::string_view id,
                                                std::optional<std::chrono::milliseconds> timeout) {
  auto guard = store_.lock(ns, id);
  CONTD_RETURN_IF_ERROR(stopLocked(ns, id, timeout));
  return startLocked(ns, id);
}

Status ContainerControl::kill(std::string_view ns, std::string_view id, int signal) {
  if (signal < 1 || signal > kMaxSignal) {
    return invalidArgument("signal: expected 1 to " + std::to_string(kMaxSignal) + ", got " +
                           std::to_string(signal));
  }
  auto guard = store_.lock(ns, id);
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  auto task = tasks_.state(ns, id);
  if (!task) {
    return task.error().wrap("kill '" + std::string(id) + "'");
  }
  if (!runs(*task) || (*task)->status == TaskStatus::kCreated) {
    return failedPrecondition("'" + std::string(id) + "' does not run");
  }
  CONTD_RETURN_IF_ERROR(tasks_.signal(ns, id, signal));
  log::container()->info("killed ns={} id={} signal={}", ns, id, signal);
  events_.publish({.kind = ModuleEvent::Kind::kKilled,
                   .ns = std::string(ns),
                   .id = std::string(id),
                   .message = "signal " + std::to_string(signal)});
  return okStatus();
}

Result<WaitResult> ContainerControl::wait(std::string_view ns, std::string_view id,
                                          const std::function<bool()>& cancelled) {
  // Listening first: an exit between the look below and the wait is in the queue.
  const auto listener = events_.listen();
  auto record = store_.get(ns, id);
  if (record) {
    auto task = tasks_.state(ns, id);
    if (!task) {
      return task.error().wrap("wait for '" + std::string(id) + "'");
    }
    if (auto exit = settledExit(*task, lifecycleFrom(record->labels))) {
      return waitResult(*exit);
    }
  } else if (record.error().code != Code::kNotFound) {
    return record.error();
  }
  const auto timeout = record ? kWaitPoll : 0ms;  // unknown: only what is queued already
  do {
    while (auto event = listener->next(timeout)) {
      if (event->ns != ns || event->id != id) {
        continue;
      }
      if (event->kind == ModuleEvent::Kind::kExited) {
        return waitResult(Termination{.time = event->time,
                                      .code = event->exit_code,
                                      .oom_killed = event->message == "oom-killed",
                                      .unhealthy = event->message == "unhealthy"});
      }
      if (event->kind == ModuleEvent::Kind::kDeleted && event->exit_code >= 0) {
        // auto_remove removed it after an exit this Wait had not seen.
        return waitResult(Termination{
            .time = event->time,
            .code = event->exit_code,
            .oom_killed = event->message.find("oom-killed") != std::string::npos,
            .unhealthy = event->message.find("unhealthy") != std::string::npos});
      }
      if (event->kind == ModuleEvent::Kind::kDeleted) {
        return notFound("'" + std::string(id) + "' was deleted before its process exited");
      }
    }
    if (!record) {
      return record.error();
    }
  } while (!cancelled());
  return Error{Code::kCancelled, "wait for '" + std::string(id) + "' cancelled"};
}

Status ContainerControl::update(std::string_view ns, std::string_view id,
                                const LimitsUpdate& limits) {
  if (limits.empty()) {
    return invalidArgument("update: no limit given (cpu, memory_bytes or pids_limit)");
  }
  // The limits alone decide: each is checked against the rules of Run.
  CONTD_RETURN_IF_ERROR(validateLimits(limits.appliedTo(ContainerSpec{})));
  auto guard = store_.lock(ns, id);
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  if (lifecycleFrom(record->labels).stopping) {
    return beingRemoved(id);
  }
  auto stored = readStoredSpec(*record);
  if (!stored) {
    return stored.error();
  }
  const ContainerSpec spec = limits.appliedTo(stored->spec);
  auto runtime = withLimits(stored->runtime, spec, limits, default_pids_limit_());
  if (!runtime) {
    return runtime.error();
  }
  auto task = tasks_.state(ns, id);
  if (!task) {
    return task.error().wrap("update '" + std::string(id) + "'");
  }
  bool live = false;
  if (runs(*task)) {
    auto updated = updateLive(ns, id, *runtime, limits);
    if (!updated) {
      return updated.error();
    }
    live = *updated;
  }
  if (auto saved = store_.saveSpec(ns, id, runtime->dump()); !saved) {
    // The process keeps nothing the record does not say: its old limits back.
    if (live) {
      auto undone = updateLive(ns, id, stored->runtime, LimitsUpdate{});
      if (!undone) {
        log::container()->warn("update ns={} id={} op=restore-limits error=\"{}\"", ns, id,
                               undone.error().message);
      }
    }
    return saved.error().wrap("update '" + std::string(id) + "': store the new limits");
  }
  const std::string what = limitsText(limits);
  log::container()->info("updated ns={} id={} {} live={}", ns, id, what, live);
  events_.publish({.kind = ModuleEvent::Kind::kUpdated,
                   .ns = std::string(ns),
                   .id = std::string(id),
                   .message = what});
  return okStatus();
}

Result<bool> ContainerControl::updateLive(std::string_view ns, std::string_view id,
                                          const nlohmann::json& runtime,
                                          const LimitsUpdate& limits) {
  auto resources = liveLimits(runtime);
  if (!resources) {
    return resources.error();
  }
  auto updated = tasks_.updateLimits(ns, id, resources->dump());
  if (updated) {
    return true;
  }
  // Under the lock nothing restarts it, but its process may have ended since the look.
  if (auto task = tasks_.state(ns, id); task && !runs(*task)) {
    return false;
  }
  return updateRefused(id, updated.error(), limits);
}

}  // namespace contd::container
