#include "modules/container/task_control.h"

#include <signal.h>

#include <thread>

#include "modules/common/logging.h"
#include "modules/container/cgroups.h"
#include "modules/container/direct_signal.h"
#include "modules/container/stale_bundle.h"
#include "modules/container/stuck_logger.h"

namespace contd::container {
namespace {

using Clock = std::chrono::steady_clock;
using containerd::TaskStatus;

// After a stuck log driver is killed, the runc shim's Create fails and containerd cleans
// up behind it; the record must outlive that clean-up (deleting it first orphans the shim).
constexpr std::chrono::milliseconds kStuckLoggerSettle{300};

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::vector<containerd::Mount> toMounts(const std::vector<images::SnapshotMount>& mounts) {
  std::vector<containerd::Mount> out;
  for (const auto& m : mounts) {
    out.push_back({m.type, m.source, m.options});
  }
  return out;
}

}  // namespace

TaskControl::TaskControl(containerd::Client& client, ContainerStore& store, const LogFiles& logs,
                         LogRetention& retention, images::ImageStore* images, TaskOptions options)
    : client_(client),
      store_(store),
      logs_(logs),
      retention_(retention),
      images_(images),
      options_(std::move(options)),
      cgroups_(options_.cgroup_root) {}

Result<std::optional<containerd::TaskState>> TaskControl::state(std::string_view ns,
                                                               std::string_view id) {
  auto task = client_.getTask(ns, id);
  if (!task) {
    if (task.error().code == Code::kNotFound) {
      return std::optional<containerd::TaskState>();
    }
    return task.error();
  }
  return std::optional<containerd::TaskState>(std::move(task).value());
}

Result<containerd::TaskState> TaskControl::startNew(std::string_view ns, std::string_view id,
                                                    std::string_view image_chain_id) {
  const auto log = log::container();
  const auto started = Clock::now();
  containerd::TaskIo io = logs_.taskIo();
  if (!image_chain_id.empty()) {
    // After the record, which names the snapshot: containerd's GC keeps it from then on.
    auto mounts = images_ == nullptr
                      ? Result<std::vector<images::SnapshotMount>>(
                            failedPrecondition("this contd has no image store"))
                      : images_->prepareSnapshot(ns, id, image_chain_id);
    if (!mounts) {
      discard(ns, id);
      return mounts.error().wrap("prepare the rootfs of '" + std::string(id) + "'");
    }
    io.rootfs = toMounts(*mounts);
  }
  // The log driver makes <id>.log and its health file at task create: a failed Run removes
  // them. A log still in place is an earlier container's (contd stopped between its Delete
  // and the retiring of its log): kept for its readers, apart from this one's.
  bool earlier_log = false;  // still in place: a failure must not remove it
  if (logs_.exists(ns, id)) {
    if (auto retired = retention_.retire(ns, id); !retired) {
      earlier_log = true;
      log->warn("retire the log an earlier container left ns={} id={} error=\"{}\"", ns, id,
                retired.error().message);
    }
  }
  auto undo = [&] {
    discard(ns, id);
    if (!earlier_log) {
      logs_.remove(ns, id);
    }
  };
  auto task = createTask(ns, id, io);
  if (!task) {
    if (task.error().code == Code::kDeadlineExceeded) {
      endStuckLogger(ns, id);
    }
    undo();
    return task.error().wrap("create task '" + std::string(id) + "'");
  }
  log->debug("run step=create-task ns={} id={} pid={} ms={:.1f}", ns, id, task->pid,
             msSince(started));
  if (auto ok = client_.startTask(ns, id); !ok) {
    undo();
    return ok.error().wrap("start task '" + std::string(id) + "'");
  }
  return task;
}

Result<std::uint32_t> TaskControl::restart(std::string_view ns, std::string_view id) {
  if (auto old = client_.deleteTask(ns, id); !old && old.error().code != Code::kNotFound) {
    return old.error().wrap("delete the exited task of '" + std::string(id) + "'");
  }
  containerd::TaskIo io = logs_.taskIo();
  if (images_ != nullptr) {
    // A container from an image keeps its snapshot across restarts: the new task mounts it.
    auto mounts = images_->snapshotMounts(ns, id);
    if (mounts) {
      io.rootfs = toMounts(*mounts);
    } else if (mounts.error().code != Code::kNotFound) {
      return mounts.error().wrap("get the rootfs of '" + std::string(id) + "'");
    }
  }
  auto task = createTask(ns, id, io);
  if (!task) {
    return task.error().wrap("create task '" + std::string(id) + "'");
  }
  if (auto started = client_.startTask(ns, id); !started) {
    (void)killAndDeleteTask(ns, id);
    return started.error().wrap("start task '" + std::string(id) + "'");
  }
  return task->pid;
}

Result<containerd::TaskState> TaskControl::createTask(std::string_view ns, std::string_view id,
                                                      const containerd::TaskIo& io) {
  const CgroupParents::Creating creating(cgroups_, ns);  // its /<ns> stays meanwhile
  auto task = client_.createTask(ns, id, io, options_.create_timeout);
  if (task) {
    return task;
  }
  auto removed = removeStaleLeftovers(ns, id, task.error());
  if (!removed) {
    return task;
  }
  if (!*removed) {
    return removed->error();
  }
  return client_.createTask(ns, id, io, options_.create_timeout);
}

std::optional<Status> TaskControl::removeStaleLeftovers(std::string_view ns, std::string_view id,
                                                        const Error& error) {
  // The caller holds the name's lock and knows of no task: what makes Create fail is what
  // an interrupted Run left.
  if (error.code == Code::kAlreadyExists) {
    // containerd killed during tasks.Create keeps a shim whose task Get calls NOT_FOUND.
    log::container()->warn("stale task, removing it ns={} id={} error=\"{}\"", ns, id,
                           error.message);
    if (auto deleted = killAndDeleteTask(ns, id);
        !deleted && deleted.error().code != Code::kNotFound) {
      return Status(deleted.error().wrap("remove the stale task"));
    }
    return okStatus();
  }
  // containerd killed after it made the bundle and before a shim started in it.
  auto bundle = shim_host_ == nullptr ? std::nullopt : staleBundleOf(error, ns, id);
  if (!bundle) {
    return std::nullopt;
  }
  if (auto cleared = clearStaleBundle(*shim_host_, ns, id, *bundle); !cleared) {
    return Status(cleared.error().wrap(error.message));
  }
  return okStatus();
}

Status TaskControl::stopTask(std::string_view ns, std::string_view id,
                             const containerd::TaskState& task,
                             std::chrono::milliseconds shutdown_timeout) {
  const auto log = log::container();
  const auto started = Clock::now();
  // A task created but never started has nothing to shut down gracefully.
  const bool graceful = task.status != TaskStatus::kCreated && shutdown_timeout.count() > 0;
  bool exited = false;
  if (graceful) {
    // Straight to the process when contd can (direct_signal.h), else through containerd.
    const bool direct = signalContainerInit(static_cast<pid_t>(task.pid), ns, id, SIGTERM);
    if (!direct) {
      auto sent = client_.killTask(ns, id, SIGTERM, false);
      if (!sent && sent.error().code != Code::kNotFound) {
        return sent.error().wrap("send SIGTERM");
      }
    }
    auto waited = client_.waitTask(ns, id, shutdown_timeout);
    exited = waited.ok();
    if (!waited && waited.error().code != Code::kDeadlineExceeded) {
      return waited.error().wrap("wait for exit");
    }
    log->debug("delete step=sigterm ns={} id={} via={} exited={} ms={:.1f}", ns, id,
               direct ? "pidfd" : "containerd", exited, msSince(started));
  }
  if (!exited) {
    auto sent = client_.killTask(ns, id, SIGKILL, true);
    if (!sent && sent.error().code != Code::kNotFound) {
      return sent.error().wrap("send SIGKILL");
    }
    if (auto waited = client_.waitTask(ns, id, options_.kill_grace); !waited) {
      return waited.error().wrap("wait for exit after SIGKILL");
    }
    log->info("killed ns={} id={} signal=SIGKILL ms={:.1f}", ns, id, msSince(started));
  }
  return okStatus();
}

Status TaskControl::stopAndRemove(std::string_view ns, std::string_view id,
                                  std::chrono::milliseconds shutdown_timeout, bool has_snapshot,
                                  bool known_stopped) {
  const auto log = log::container();
  const auto started = Clock::now();
  // Known stopped (or absent): straight to its deletion, one round trip less.
  auto task = known_stopped ? Result<std::optional<containerd::TaskState>>(
                                  containerd::TaskState{.status = TaskStatus::kStopped})
                            : state(ns, id);
  if (!task) {
    return task.error();
  }
  if (*task) {
    if ((*task)->status != TaskStatus::kStopped) {
      CONTD_RETURN_IF_ERROR(stopTask(ns, id, **task, shutdown_timeout));
    }
    if (auto deleted = client_.deleteTask(ns, id);
        !deleted && deleted.error().code != Code::kNotFound) {
      return deleted.error().wrap("delete task");
    }
    log->debug("delete step=delete-task ns={} id={} ms={:.1f}", ns, id, msSince(started));
  }
  CONTD_RETURN_IF_ERROR(store_.remove(ns, id));
  // The task is gone and with it the log driver (the shim waits for it at task delete):
  // the files are complete. A failure leaves them in place; the next Run of the name, or
  // the next start of contd, retires them.
  if (auto retired = retention_.retire(ns, id); !retired) {
    log->warn("retire log ns={} id={} error=\"{}\"", ns, id, retired.error().message);
  }
  // After the record, which references it. A container on a host directory has none.
  if (has_snapshot && images_ != nullptr) {
    if (auto removed = images_->removeSnapshot(ns, id); !removed) {
      return removed.error().wrap("remove the snapshot");
    }
  }
  cgroups_.removeEmpty(ns, id);
  log->info("deleted ns={} id={} ms={:.1f}", ns, id, msSince(started));
  return okStatus();
}

Status TaskControl::release(std::string_view ns, std::string_view id) {
  auto task = state(ns, id);
  if (!task) {
    return task.error();
  }
  if (!*task) {
    return okStatus();
  }
  auto deleted = killAndDeleteTask(ns, id, (*task)->status);
  return deleted || deleted.error().code == Code::kNotFound ? okStatus() : deleted;
}

Result<containerd::ExitStatus> TaskControl::stop(std::string_view ns, std::string_view id,
                                                 std::chrono::milliseconds shutdown_timeout) {
  auto task = state(ns, id);
  if (!task) {
    return task.error();
  }
  if (!*task) {
    return failedPrecondition("'" + std::string(id) + "' has no process");
  }
  if ((*task)->status != TaskStatus::kStopped) {
    CONTD_RETURN_IF_ERROR(stopTask(ns, id, **task, shutdown_timeout));
    task = state(ns, id);
    if (!task || !*task) {
      return task ? Error{Code::kInternal, "the task of '" + std::string(id) + "' vanished"}
                  : task.error();
    }
  }
  return containerd::ExitStatus{(*task)->exit_status, (*task)->exited_at};
}

Status TaskControl::signal(std::string_view ns, std::string_view id, int signal) {
  auto sent = client_.killTask(ns, id, signal, false);
  return sent ? okStatus() : Status(sent.error().wrap("send signal " + std::to_string(signal)));
}

Status TaskControl::updateLimits(std::string_view ns, std::string_view id,
                                 std::string_view resources_json) {
  return client_.updateTask(ns, id, resources_json);
}

void TaskControl::discard(std::string_view ns, std::string_view id) {
  const auto log = log::container();
  // Best effort, in containerd's required order: kill, delete the task, delete the record.
  // The task is deleted even when Get says NOT_FOUND: containerd 1.6 answers so for a shim
  // whose Create was interrupted, and only tasks.Delete ends that shim and its bundle.
  auto task = client_.getTask(ns, id);
  Status deleted = killAndDeleteTask(ns, id, task ? task->status : TaskStatus::kStopped);
  if (!deleted && deleted.error().code != Code::kNotFound) {
    log->warn("rollback ns={} id={} op=delete-task error=\"{}\"", ns, id,
              deleted.error().message);
  }
  if (auto deleted = client_.deleteContainer(ns, id); !deleted) {
    log->warn("rollback ns={} id={} op=delete-container error=\"{}\"", ns, id,
              deleted.error().message);
  }
  if (images_ != nullptr) {
    if (auto removed = images_->removeSnapshot(ns, id); !removed) {
      log->warn("rollback ns={} id={} op=remove-snapshot error=\"{}\"", ns, id,
                removed.error().message);
    }
  }
  cgroups_.removeEmpty(ns, id);
  log->info("rolled back ns={} id={}", ns, id);
}

Status TaskControl::killAndDeleteTask(std::string_view ns, std::string_view id,
                                      containerd::TaskStatus status) {
  if (status != TaskStatus::kStopped) {
    (void)client_.killTask(ns, id, SIGKILL, true);
    (void)client_.waitTask(ns, id, options_.kill_grace);
  }
  auto deleted = client_.deleteTask(ns, id);
  return deleted ? okStatus() : Status(deleted.error());
}

void TaskControl::endStuckLogger(std::string_view ns, std::string_view id) {
  const auto loggers = findLoggers(logs_.options().log_shim, ns, id);
  for (pid_t pid : loggers) {
    log::container()->warn("log driver not ready in time, ending it ns={} id={} logger_pid={}",
                           ns, id, pid);
    ::kill(pid, SIGKILL);
  }
  if (!loggers.empty()) {
    std::this_thread::sleep_for(kStuckLoggerSettle);
  }
}

}  // namespace contd::container
