#include "modules/container/service.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cerrno>
#include <fstream>
#include <chrono>
#include <map>
#include <optional>
#include <system_error>
#include <thread>

#include "modules/common/logging.h"
#include "modules/common/names.h"
#include "modules/container/exec_capture.h"
#include "modules/container/lifecycle_labels.h"
#include "modules/container/spec_builder.h"
#include "modules/container/stuck_logger.h"
#include "modules/container/user_lookup.h"
#include "modules/container/validation.h"

namespace contd::container {
namespace {

using containerd::TaskStatus;
using Clock = std::chrono::steady_clock;

// What the caller left empty comes from the image's config (docs/images.md): argv from
// Entrypoint+Cmd when neither argv nor entrypoint is given, the image's env with the
// caller's winning per key, the working dir, and the user (the image's User when `user`
// is empty; a caller's "0" or "root" overrides it). The merged spec is what is stored and
// what Inspect shows.
void mergeImageConfig(const images::ImageConfig& image, ContainerSpec& spec) {
  if (spec.argv.empty() && spec.entrypoint.empty()) {
    spec.argv = image.entrypoint;
    spec.argv.insert(spec.argv.end(), image.cmd.begin(), image.cmd.end());
  }
  const auto key = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env;
  for (const auto& entry : image.env) {
    bool overridden = false;
    for (const auto& own : spec.env) {
      overridden = overridden || key(own) == key(entry);
    }
    if (!overridden) {
      env.push_back(entry);
    }
  }
  env.insert(env.end(), spec.env.begin(), spec.env.end());
  spec.env = std::move(env);
  if (spec.working_dir.empty()) {
    spec.working_dir = image.working_dir;
  }
  if (spec.user.empty()) {
    spec.user = image.user;
  }
}

// spec.user as numbers, from the container's /etc/passwd and /etc/group: the image's
// layers (a view snapshot, nothing mounted) or the host directory rootfs. Files are read
// only when the user string needs them (not for "" or a numeric "uid:gid").
Result<ProcessUser> resolveRunUser(std::string_view ns, const ContainerSpec& spec,
                                   images::ImageStore* images,
                                   const std::optional<images::ImageInfo>& image) {
  FileReader read;
  if (userNeedsFiles(spec.user)) {
    if (image) {
      read = [&](const std::string& path) {
        return images->readImageFile(ns, image->chain_id, path, kMaxUserFileBytes);
      };
    } else {
      read = rootfsFileReader(spec.rootfs);
    }
  }
  return resolveUser(spec.user, read);
}

std::vector<containerd::Mount> toMounts(const std::vector<images::SnapshotMount>& mounts) {
  std::vector<containerd::Mount> out;
  for (const auto& m : mounts) {
    out.push_back({m.type, m.source, m.options});
  }
  return out;
}

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string lockKey(std::string_view ns, std::string_view id) {
  return std::string(ns) + "/" + std::string(id);
}

// The wording Go callers of the zbus API test for ("not found" must be in it).
Error containerNotFound(std::string_view ns, std::string_view id) {
  return notFound("container \"" + std::string(id) + "\" in namespace \"" + std::string(ns) +
                  "\": not found");
}

// containerd parses the log URI as a URL: keep path characters, escape the rest.
std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

bool isManaged(const containerd::ContainerRecord& record) {
  auto it = record.labels.find(kManagedLabel);
  return it != record.labels.end() && it->second == "true";
}

ContainerStatus statusOf(TaskStatus status) {
  switch (status) {
    case TaskStatus::kCreated: return ContainerStatus::kCreated;
    case TaskStatus::kRunning:
    case TaskStatus::kPaused:
    case TaskStatus::kPausing: return ContainerStatus::kRunning;
    case TaskStatus::kStopped: return ContainerStatus::kStopped;
    case TaskStatus::kUnknown: return ContainerStatus::kUnknown;
  }
  return ContainerStatus::kUnknown;
}

// Reads back the ContainerSpec that Run stored as a spec annotation.
Result<ContainerSpec> storedSpec(const containerd::ContainerRecord& record) {
  try {
    auto oci = nlohmann::json::parse(record.spec_json);
    const auto& stored = oci.at("annotations").at(kSpecAnnotation);
    return specFromJson(nlohmann::json::parse(stored.get<std::string>()));
  } catch (const nlohmann::json::exception& e) {
    return internalError("container '" + record.id + "': stored spec unreadable: " + e.what());
  }
}

// The number after "\"<key>\":" in the health file's JSON line, or 0.
std::uint64_t healthNumber(std::string_view json, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":";
  const std::size_t at = json.find(needle);
  std::uint64_t value = 0;
  if (at != std::string_view::npos) {
    const char* begin = json.data() + at + needle.size();
    (void)std::from_chars(begin, json.data() + json.size(), value);
  }
  return value;
}

// contd-shim-logs keeps <log_root>/<ns>/.<name>.log.health (docs/logs.md): one JSON line,
// replaced atomically. Absent (never ran, bad arguments): the counters stay 0.
void readLogHealth(const std::filesystem::path& log_path, ContainerInfo& info) {
  std::ifstream in(log_path.parent_path() / ("." + log_path.filename().string() + ".health"));
  std::string json;
  if (!in || !std::getline(in, json)) {
    return;
  }
  info.log_writer_restarts = healthNumber(json, "writer_restarts");
  info.log_dropped_bytes = healthNumber(json, "dropped_bytes");
}

}  // namespace

ContainerService::ContainerService(containerd::Client& client, ServiceOptions options)
    : client_(client),
      options_(std::move(options)),
      default_shutdown_ms_(options_.default_shutdown_timeout.count()),
      default_pids_limit_(options_.default_pids_limit) {
  options_.log_root = std::filesystem::absolute(options_.log_root);
}

void ContainerService::setDefaults(std::chrono::milliseconds shutdown_timeout,
                                   std::int64_t pids_limit) {
  default_shutdown_ms_ = shutdown_timeout.count();
  default_pids_limit_ = pids_limit;
}

std::filesystem::path ContainerService::logPath(std::string_view ns, std::string_view name) const {
  return options_.log_root / std::string(ns) / (std::string(name) + ".log");
}

containerd::TaskIo ContainerService::taskIo(std::string_view /*ns*/,
                                            std::string_view /*name*/) const {
  // containerd's runc shim starts contd-shim-logs with the query as arguments and the
  // container's ids in its environment; the logger derives <log_root>/<ns>/<id>.log itself.
  // One URI for both streams: the shim starts one logger for the pair.
  const std::string uri = "binary://" + percentEncode(options_.log_shim.string()) +
                          "?log_root=" + percentEncode(options_.log_root.string()) +
                          "&max_size=" + std::to_string(options_.log_max_size) +
                          "&max_files=" + std::to_string(options_.log_max_files) +
                          (options_.log_policy == "drop"
                               ? "&policy=drop&rate=" + std::to_string(options_.log_rate_limit)
                               : std::string());
  return containerd::TaskIo{.stdin_path = "", .stdout_uri = uri, .stderr_uri = uri};
}

KeyLocks::Guard ContainerService::lockContainer(std::string_view ns, std::string_view id) {
  return locks_.lock(lockKey(ns, id));
}

Result<std::uint32_t> ContainerService::restartTaskLocked(std::string_view ns,
                                                          std::string_view id) {
  if (auto old = client_.deleteTask(ns, id); !old && old.error().code != Code::kNotFound) {
    return old.error().wrap("delete the exited task of '" + std::string(id) + "'");
  }
  containerd::TaskIo io = taskIo(ns, id);
  if (options_.images != nullptr) {
    // A container from an image keeps its snapshot across restarts: the new task mounts it.
    auto mounts = options_.images->snapshotMounts(ns, id);
    if (mounts) {
      io.rootfs = toMounts(*mounts);
    } else if (mounts.error().code != Code::kNotFound) {
      return mounts.error().wrap("get the rootfs of '" + std::string(id) + "'");
    }
  }
  auto task = client_.createTask(ns, id, io, options_.task_create_timeout);
  if (!task) {
    return task.error().wrap("create task '" + std::string(id) + "'");
  }
  if (auto started = client_.startTask(ns, id); !started) {
    (void)client_.killTask(ns, id, SIGKILL, true);
    (void)client_.waitTask(ns, id, options_.kill_grace);
    (void)client_.deleteTask(ns, id);
    return started.error().wrap("start task '" + std::string(id) + "'");
  }
  return task->pid;
}

Result<std::string> ContainerService::run(std::string_view ns, const ContainerSpec& requested) {
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  ValidationEnv env;
  env.netns_dir = options_.netns_dir;
  CONTD_RETURN_IF_ERROR(validateSpec(requested, env));

  // What Inspect returns is the spec with the module's defaults made explicit.
  ContainerSpec spec = requested;
  std::optional<images::ImageInfo> image;
  if (!spec.image.empty()) {
    if (options_.images == nullptr) {
      return failedPrecondition("run '" + spec.name + "' from image '" + spec.image +
                                "': this contd has no image store");
    }
    auto found = options_.images->getImage(ns, spec.image);
    if (!found) {
      return found.error().wrap("run '" + spec.name + "'");
    }
    image = std::move(*found);
    mergeImageConfig(image->config, spec);
    if (spec.argv.empty() && spec.entrypoint.empty()) {
      return invalidArgument("argv: image '" + spec.image +
                             "' has no Entrypoint or Cmd, give argv or entrypoint");
    }
    if (requested.user.empty() && !spec.user.empty()) {
      if (auto checked = checkUser(spec.user); !checked) {
        std::string why = checked.error().message;
        if (why.rfind("user: ", 0) == 0) {
          why.erase(0, 6);
        }
        return invalidArgument("user: image '" + spec.image + "' has a User contd cannot use (" +
                               why + "); give user");
      }
    }
    CONTD_RETURN_IF_ERROR(validateSpec(spec, env));
  }
  if (spec.shutdown_timeout.count() == 0) {
    spec.shutdown_timeout = std::chrono::milliseconds(default_shutdown_ms_.load());
  }
  // Before anything is created: an unknown user name leaves nothing behind.
  auto user = resolveRunUser(ns, spec, options_.images, image);
  if (!user) {
    return user.error();
  }

  SpecOptions spec_options;
  spec_options.netns_dir = options_.netns_dir;
  spec_options.resolv_conf = options_.resolv_conf;
  spec_options.default_pids_limit = default_pids_limit_.load();
  spec_options.seccomp_profile = options_.seccomp_profile;
  auto oci = buildRuntimeSpec(ns, spec, spec_options, *user);
  if (!oci) {
    return oci.error();
  }

  const auto log_path = logPath(ns, spec.name);
  std::error_code ec;
  std::filesystem::create_directories(log_path.parent_path(), ec);
  if (ec) {
    return internalError("create log folder '" + log_path.parent_path().string() +
                         "': " + ec.message());
  }

  auto guard = locks_.lock(lockKey(ns, spec.name));
  const auto log = log::container();
  const auto started = Clock::now();

  CONTD_RETURN_IF_ERROR(client_.ensureNamespace(ns));

  containerd::ContainerRecord record;
  record.id = spec.name;
  record.labels[kManagedLabel] = "true";
  record.spec_json = oci->dump();
  if (image) {
    record.labels[images::kImageLabel] = spec.image;
    record.labels[images::kImageDigestLabel] = image->manifest_digest;
    record.snapshotter = images::kSnapshotter;
    record.snapshot_key = spec.name;
  }
  if (auto created = client_.createContainer(ns, record); !created) {
    if (created.error().code == Code::kAlreadyExists) {
      return alreadyExists("container \"" + spec.name + "\" in namespace \"" + std::string(ns) +
                           "\": already exists");
    }
    return created.error().wrap("create container '" + spec.name + "'");
  }
  log->debug("run step=create-container ns={} id={} ms={:.1f}", ns, spec.name, msSince(started));

  // From here on, any failure removes everything made so far.
  containerd::TaskIo io = taskIo(ns, spec.name);
  if (image) {
    // After the record, which names the snapshot: containerd's GC keeps it from then on.
    auto mounts = options_.images->prepareSnapshot(ns, spec.name, image->chain_id);
    if (!mounts) {
      rollback(ns, spec.name);
      return mounts.error().wrap("prepare the rootfs of '" + spec.name + "'");
    }
    io.rootfs = toMounts(*mounts);
  }
  auto task = client_.createTask(ns, spec.name, io, options_.task_create_timeout);
  if (!task) {
    if (task.error().code == Code::kDeadlineExceeded) {
      endStuckLogger(ns, spec.name);
    }
    rollback(ns, spec.name);
    return task.error().wrap("create task '" + spec.name + "'");
  }
  log->debug("run step=create-task ns={} id={} pid={} ms={:.1f}", ns, spec.name, task->pid,
             msSince(started));

  if (auto ok = client_.startTask(ns, spec.name); !ok) {
    rollback(ns, spec.name);
    return ok.error().wrap("start task '" + spec.name + "'");
  }
  log->info("started ns={} id={} pid={} ms={:.1f}", ns, spec.name, task->pid, msSince(started));
  events_.publish({.kind = ModuleEvent::Kind::kStarted,
                   .ns = std::string(ns),
                   .id = spec.name,
                   .pid = task->pid});
  return spec.name;
}

void ContainerService::endStuckLogger(std::string_view ns, std::string_view id) {
  const auto log = log::container();
  const auto loggers = findLoggers(options_.log_shim, ns, id);
  for (pid_t pid : loggers) {
    log->warn("log driver not ready in time, ending it ns={} id={} logger_pid={}", ns, id, pid);
    ::kill(pid, SIGKILL);
  }
  if (loggers.empty()) {
    return;
  }
  // The runc shim's Create now fails; give containerd a moment to clean up behind it
  // before the rollback removes the container record (deleting it first would orphan it).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

void ContainerService::rollback(std::string_view ns, std::string_view id) {
  const auto log = log::container();
  // Best effort, in containerd's required order: kill, delete the task, delete the container.
  if (auto task = client_.getTask(ns, id); task) {
    if (task->status != TaskStatus::kStopped) {
      (void)client_.killTask(ns, id, SIGKILL, true);
      (void)client_.waitTask(ns, id, options_.kill_grace);
    }
    if (auto deleted = client_.deleteTask(ns, id); !deleted) {
      log->warn("rollback ns={} id={} op=delete-task error=\"{}\"", ns, id,
                deleted.error().message);
    }
  }
  if (auto deleted = client_.deleteContainer(ns, id); !deleted) {
    log->warn("rollback ns={} id={} op=delete-container error=\"{}\"", ns, id,
              deleted.error().message);
  }
  if (options_.images != nullptr) {
    if (auto removed = options_.images->removeSnapshot(ns, id); !removed) {
      log->warn("rollback ns={} id={} op=remove-snapshot error=\"{}\"", ns, id,
                removed.error().message);
    }
  }
  removeEmptyCgroupParents(ns, id);
  log->info("rolled back ns={} id={}", ns, id);
}

Result<containerd::ContainerRecord> ContainerService::managedRecord(std::string_view ns,
                                                                    std::string_view id) {
  // Every operation on an existing container starts here, from either adapter: a name
  // outside the identifier rule is refused before it can reach containerd.
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  CONTD_RETURN_IF_ERROR(validateName("id", id));
  auto record = client_.getContainer(ns, id);
  if (!record) {
    if (record.error().code == Code::kNotFound) {
      return containerNotFound(ns, id);
    }
    return record.error();
  }
  // Containers contd did not make are invisible to it.
  if (!isManaged(*record)) {
    return containerNotFound(ns, id);
  }
  return record;
}

ContainerInfo ContainerService::describe(std::string_view ns,
                                         const containerd::ContainerRecord& record,
                                         const std::optional<containerd::TaskState>& task) const {
  ContainerInfo info;
  info.ns = std::string(ns);
  if (auto spec = storedSpec(record); spec) {
    info.spec = std::move(spec).value();
  } else {
    log::container()->warn("inspect ns={} id={} error=\"{}\"", ns, record.id,
                           spec.error().message);
    info.spec.name = record.id;
  }
  info.created_at = record.created_at;
  if (auto digest = record.labels.find(images::kImageDigestLabel);
      digest != record.labels.end()) {
    info.image_digest = digest->second;
  }
  info.log_path = logPath(ns, record.id).string();
  readLogHealth(logPath(ns, record.id), info);
  const Lifecycle lifecycle = lifecycleFrom(record.labels);
  info.restart_count = lifecycle.restarts;
  info.exits = lifecycle.exits;
  info.stopping = lifecycle.stopping;
  if (task) {
    info.status = statusOf(task->status);
    if (info.status == ContainerStatus::kStopped) {
      info.exit_code = static_cast<std::int32_t>(task->exit_status);
      info.exited_at = task->exited_at;
    } else {
      info.pid = task->pid;
    }
  } else {
    // No task: Run never got that far, or a restart is between two tasks. Nothing runs.
    info.status = ContainerStatus::kStopped;
    if (!lifecycle.exits.empty()) {
      info.exit_code = lifecycle.exits.back().code;
      info.exited_at = lifecycle.exits.back().time;
    }
  }
  // The restart policy's state describes a container that does not run.
  if (info.status == ContainerStatus::kStopped) {
    if (lifecycle.state == PolicyState::kBackingOff) {
      info.status = ContainerStatus::kBackingOff;
      info.next_retry = lifecycle.next_retry;
    } else if (lifecycle.state == PolicyState::kFailed) {
      info.status = ContainerStatus::kFailed;
    }
  }
  return info;
}

Result<ContainerInfo> ContainerService::inspect(std::string_view ns, std::string_view id) {
  auto record = managedRecord(ns, id);
  if (!record) {
    return record.error();
  }
  std::optional<containerd::TaskState> task;
  if (auto state = client_.getTask(ns, id); state) {
    task = std::move(state).value();
  } else if (state.error().code != Code::kNotFound) {
    return state.error().wrap("inspect '" + std::string(id) + "'");
  }
  return describe(ns, *record, task);
}

Status ContainerService::stopAndRemove(std::string_view ns, std::string_view id,
                                       std::chrono::milliseconds shutdown_timeout,
                                       bool has_snapshot) {
  const auto log = log::container();
  const auto started = Clock::now();
  auto task = client_.getTask(ns, id);
  if (!task && task.error().code != Code::kNotFound) {
    return task.error();
  }
  if (task) {
    if (task->status != TaskStatus::kStopped) {
      // A task created but never started has nothing to shut down gracefully.
      const bool graceful = task->status != TaskStatus::kCreated && shutdown_timeout.count() > 0;
      bool exited = false;
      if (graceful) {
        auto sent = client_.killTask(ns, id, SIGTERM, false);
        if (!sent && sent.error().code != Code::kNotFound) {
          return sent.error().wrap("send SIGTERM");
        }
        auto waited = client_.waitTask(ns, id, shutdown_timeout);
        exited = waited.ok();
        if (!waited && waited.error().code != Code::kDeadlineExceeded) {
          return waited.error().wrap("wait for exit");
        }
        log->debug("delete step=sigterm ns={} id={} exited={} ms={:.1f}", ns, id, exited,
                   msSince(started));
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
    }
    if (auto deleted = client_.deleteTask(ns, id);
        !deleted && deleted.error().code != Code::kNotFound) {
      return deleted.error().wrap("delete task");
    }
    log->debug("delete step=delete-task ns={} id={} ms={:.1f}", ns, id, msSince(started));
  }
  if (auto deleted = client_.deleteContainer(ns, id);
      !deleted && deleted.error().code != Code::kNotFound) {
    return deleted.error().wrap("delete container");
  }
  // After the container, which references it. A container on a host directory has none.
  if (has_snapshot && options_.images != nullptr) {
    if (auto removed = options_.images->removeSnapshot(ns, id); !removed) {
      return removed.error().wrap("remove the snapshot");
    }
  }
  removeEmptyCgroupParents(ns, id);
  log->info("deleted ns={} id={} ms={:.1f}", ns, id, msSince(started));
  return okStatus();
}

Status ContainerService::remove(std::string_view ns, std::string_view id) {
  auto guard = locks_.lock(lockKey(ns, id));
  auto record = managedRecord(ns, id);
  if (!record) {
    return record.error();
  }
  auto timeout = std::chrono::milliseconds(default_shutdown_ms_.load());
  if (auto spec = storedSpec(*record); spec && spec->shutdown_timeout.count() > 0) {
    timeout = spec->shutdown_timeout;
  }
  // Marked first, so that the restart policy leaves the exit alone even when the delete
  // fails half-way.
  if (!lifecycleFrom(record->labels).stopping) {
    if (auto marked = client_.setLabels(ns, id, {{kStoppingLabel, "true"}}); !marked) {
      return marked.error().wrap("delete '" + std::string(id) + "': mark as stopping");
    }
  }
  if (auto removed = stopAndRemove(ns, id, timeout, !record->snapshot_key.empty()); !removed) {
    return removed.error().wrap("delete '" + std::string(id) + "' in '" + std::string(ns) + "'");
  }
  events_.publish({.kind = ModuleEvent::Kind::kDeleted, .ns = std::string(ns), .id = std::string(id)});
  return okStatus();
}

Status ContainerService::signalDelete(std::string_view ns, std::string_view id) {
  auto guard = locks_.lock(lockKey(ns, id));
  auto record = managedRecord(ns, id);
  if (!record) {
    // Asking an absent container to go away has nothing left to do.
    return record.error().code == Code::kNotFound ? okStatus() : Status(record.error());
  }
  if (auto marked = client_.setLabels(ns, id, {{kStoppingLabel, "true"}}); !marked) {
    return marked.error().wrap("signal '" + std::string(id) + "': mark as stopping");
  }
  auto sent = client_.killTask(ns, id, SIGTERM, false);
  if (!sent && sent.error().code != Code::kNotFound) {
    return sent.error().wrap("signal '" + std::string(id) + "'");
  }
  log::container()->info("signalled ns={} id={} signal=SIGTERM", ns, id);
  return okStatus();
}

Result<std::vector<ContainerInfo>> ContainerService::list(std::string_view ns) {
  std::vector<std::string> namespaces;
  if (ns.empty()) {
    auto all = client_.listNamespaces();
    if (!all) {
      return all.error();
    }
    namespaces = std::move(all).value();
  } else {
    CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
    namespaces.emplace_back(ns);
  }

  std::vector<ContainerInfo> infos;
  for (const auto& name : namespaces) {
    auto records = client_.listContainers(name, {{kManagedLabel, "true"}});
    if (!records) {
      return records.error().wrap("list containers in '" + name + "'");
    }
    if (records->empty()) {
      continue;
    }
    // One Tasks.List per namespace instead of a Get per container.
    auto tasks = client_.listTasks(name);
    if (!tasks) {
      return tasks.error().wrap("list tasks in '" + name + "'");
    }
    std::map<std::string, containerd::TaskState, std::less<>> by_id;
    for (auto& task : *tasks) {
      by_id.emplace(task.id, std::move(task));
    }
    for (const auto& record : *records) {
      std::optional<containerd::TaskState> task;
      if (auto it = by_id.find(record.id); it != by_id.end()) {
        task = it->second;
      }
      infos.push_back(describe(name, record, task));
    }
  }
  return infos;
}

Result<std::vector<std::string>> ContainerService::listNamespaces() {
  auto all = client_.listNamespaces();
  if (!all) {
    return all.error();
  }
  // Only namespaces where contd has containers: the others belong to someone else.
  std::vector<std::string> ours;
  for (const auto& ns : *all) {
    auto records = client_.listContainers(ns, {{kManagedLabel, "true"}});
    if (!records) {
      return records.error().wrap("list containers in '" + ns + "'");
    }
    if (!records->empty()) {
      ours.push_back(ns);
    }
  }
  return ours;
}

Result<bool> ContainerService::exists(std::string_view ns, std::string_view id) {
  auto record = managedRecord(ns, id);
  if (record) {
    return true;
  }
  if (record.error().code == Code::kNotFound) {
    return false;
  }
  return record.error();
}

void ContainerService::removeEmptyCgroupParents(std::string_view ns, std::string_view id) const {
  // runc removes the container's own cgroup (/<ns>/<id>) but not the /<ns> parent it made,
  // and a create that failed half-way can leave the leaf in some hierarchy too.
  // rmdir only succeeds on an empty cgroup, so this never disturbs a sibling container.
  const std::string parent(ns);
  const std::string leaf = parent + "/" + std::string(id);
  std::error_code ec;
  for (const auto& path : {leaf, parent}) {
    (void)::rmdir((options_.cgroup_root / path).c_str());  // cgroup v2: one hierarchy
    for (const auto& entry : std::filesystem::directory_iterator(options_.cgroup_root, ec)) {
      if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
        (void)::rmdir((entry.path() / path).c_str());
      }
    }
  }
}

Result<ExecResult> ContainerService::exec(std::string_view ns, std::string_view id,
                                          const std::vector<std::string>& argv,
                                          std::chrono::milliseconds timeout) {
  if (argv.empty() || argv[0].empty()) {
    return invalidArgument("argv: must name a program");
  }
  if (timeout.count() <= 0) {
    return invalidArgument("timeout: must be greater than 0");
  }
  auto record = managedRecord(ns, id);
  if (!record) {
    return record.error();
  }
  auto task = client_.getTask(ns, id);
  if (!task || task->status != TaskStatus::kRunning) {
    return failedPrecondition("exec in '" + std::string(id) + "': the container does not run");
  }
  // The exec'd process gets the container's own process settings (env, cwd, user, caps,
  // rlimits, noNewPrivileges), with the new argv.
  nlohmann::json process;
  try {
    process = nlohmann::json::parse(record->spec_json).at("process");
  } catch (const nlohmann::json::exception& e) {
    return internalError("exec in '" + std::string(id) + "': stored spec unreadable: " + e.what());
  }
  process["args"] = argv;
  process["terminal"] = false;

  const std::string exec_id = "exec-" + std::to_string(::getpid()) + "-" +
                              std::to_string(exec_counter_.fetch_add(1) + 1);
  // The fifos sit next to the container's log; container names cannot start with '.', so
  // they collide with no log file.
  auto capture = OutputCapture::start(logPath(ns, id).parent_path(),
                                      "." + std::string(id) + "." + exec_id, kExecOutputLimit);
  if (!capture) {
    return capture.error().wrap("exec in '" + std::string(id) + "'");
  }
  containerd::ExecRequest request{.exec_id = exec_id,
                                  .process_spec_json = process.dump(),
                                  .stdout_uri = (*capture)->stdoutPath(),
                                  .stderr_uri = (*capture)->stderrPath()};
  const auto log = log::container();
  CONTD_RETURN_IF_ERROR(client_.execProcess(ns, id, request));
  ExecResult result;
  if (auto started = client_.startProcess(ns, id, exec_id); !started) {
    (void)client_.deleteProcess(ns, id, exec_id);
    return started.error().wrap("exec in '" + std::string(id) + "'");
  }
  auto exit = client_.waitProcess(ns, id, exec_id, timeout);
  if (!exit && exit.error().code == Code::kDeadlineExceeded) {
    result.timed_out = true;
    (void)client_.killProcess(ns, id, exec_id, SIGKILL);
    exit = client_.waitProcess(ns, id, exec_id, options_.kill_grace);
  }
  if (exit) {
    result.exit_code = static_cast<std::int32_t>(exit->code);
  }
  (void)client_.deleteProcess(ns, id, exec_id);
  result.output = (*capture)->finish(std::chrono::seconds(2), &result.truncated);
  if (!exit) {
    return exit.error().wrap("exec in '" + std::string(id) + "': wait");
  }
  log->info("exec ns={} id={} exec_id={} code={} timed_out={}", ns, id, exec_id, result.exit_code,
            result.timed_out);
  return result;
}

Result<containerd::TaskMetrics> ContainerService::stats(std::string_view ns, std::string_view id) {
  auto record = managedRecord(ns, id);
  if (!record) {
    return record.error();
  }
  auto metrics = client_.metrics(ns, id);
  if (!metrics) {
    return metrics.error().wrap("stats of '" + std::string(id) + "'");
  }
  return metrics;
}

Result<std::vector<LogLine>> ContainerService::logs(std::string_view ns, std::string_view id,
                                                    const LogQuery& query) {
  // The log outlives nothing but the container record: an unknown container has no log.
  auto record = managedRecord(ns, id);
  if (!record) {
    return record.error();
  }
  return readLog(logPath(ns, id), query);
}

Status ContainerService::followLogs(std::string_view ns, std::string_view id,
                                    const LogQuery& query, const LogSink& sink,
                                    const std::function<bool()>& cancelled) {
  auto record = managedRecord(ns, id);
  if (!record) {
    return record.error();
  }
  // The record exists, so a missing file only means nothing was written yet: waited for.
  return followLog(logPath(ns, id), query, sink, cancelled);
}

Result<nlohmann::json> ContainerService::runtimeSpec(std::string_view ns, std::string_view id) {
  auto record = managedRecord(ns, id);
  if (!record) {
    return record.error();
  }
  auto spec = nlohmann::json::parse(record->spec_json, nullptr, false);
  if (spec.is_discarded()) {
    return internalError("container '" + std::string(id) + "': stored runtime spec unreadable");
  }
  return spec;
}

}  // namespace contd::container
