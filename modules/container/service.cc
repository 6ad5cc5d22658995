#include "modules/container/service.h"

#include <signal.h>

#include <chrono>
#include <future>
#include <map>
#include <optional>

#include "modules/common/logging.h"
#include "modules/common/names.h"
#include "modules/container/lifecycle_labels.h"
#include "modules/container/spec_builder.h"
#include "modules/container/stored_spec.h"
#include "modules/container/user_lookup.h"
#include "modules/container/validation.h"
#include "modules/images/image_names.h"

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
Result<ProcessUser> resolveRunUser(const ValidSpec& valid, images::ImageStore* images,
                                   const std::optional<images::ImageInfo>& image) {
  FileReader read;
  if (valid.user.needsFiles()) {
    if (image) {
      read = [&](const std::string& path) {
        return images->readImageFile(valid.ns, image->chain_id, path, kMaxUserFileBytes);
      };
    } else {
      read = rootfsFileReader(valid.spec.rootfs);
    }
  }
  return resolveUser(valid.user, read);
}

// The image `spec` names, its config merged into what the caller left empty.
Result<images::ImageInfo> applyImage(images::ImageStore* images, std::string_view ns,
                                     ContainerSpec& spec) {
  if (images == nullptr) {
    return failedPrecondition("run '" + spec.name + "' from image '" + spec.image +
                              "': this contd has no image store");
  }
  // As typed, else normalised (image_names.h); the spec (and the image label) then holds
  // the stored name, so RemoveImage sees that the container uses it.
  auto found = images::findImage(*images, ns, spec.image);
  if (!found) {
    return found.error().wrap("run '" + spec.name + "'");
  }
  spec.image = found->name;
  mergeImageConfig(found->config, spec);
  if (spec.argv.empty() && spec.entrypoint.empty()) {
    return invalidArgument("argv: image '" + spec.image +
                           "' has no Entrypoint or Cmd, give argv or entrypoint");
  }
  return found;
}

// A user field the caller never gave came from the image: say so, and what to do.
Error explainImageUser(Error error, const ContainerSpec& requested, const ContainerSpec& spec) {
  constexpr std::string_view kUserField = "user: ";
  if (!requested.user.empty() || spec.user.empty() || error.message.rfind(kUserField, 0) != 0) {
    return error;
  }
  return invalidArgument("user: image '" + spec.image + "' has a User contd cannot use (" +
                         error.message.substr(kUserField.size()) + "); give user");
}

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
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

// Live state from the task, or from the restart policy's memory when no task runs.
void describeState(const std::optional<containerd::TaskState>& task, const Lifecycle& lifecycle,
                   ContainerInfo& info) {
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
  if (lifecycle.stopping) {
    info.desired = DesiredState::kRemoved;
  } else if (lifecycle.state == PolicyState::kStopped || lifecycle.state == PolicyState::kFailed) {
    info.desired = DesiredState::kStopped;
  }
}

LogFilesOptions logOptions(const ServiceOptions& options) {
  return {.log_root = options.log_root,
          .log_shim = options.log_shim,
          .max_size = options.log_max_size,
          .max_files = options.log_max_files,
          .policy = options.log_policy,
          .rate_limit = options.log_rate_limit};
}

}  // namespace

struct ContainerService::RunPlan {
  ValidSpec valid;  // as stored: the image's config merged in, defaults filled in
  std::optional<images::ImageInfo> image;
  nlohmann::json runtime;  // the OCI runtime spec
};

ContainerService::ContainerService(containerd::Client& client, ServiceOptions options)
    : client_(client),
      options_(std::move(options)),
      logs_(logOptions(options_)),
      retention_(logs_, options_.log_retention),
      store_(client),
      tasks_(client, store_, logs_, retention_, options_.images,
             {.cgroup_root = options_.cgroup_root,
              .kill_grace = options_.kill_grace,
              .create_timeout = options_.task_create_timeout}),
      exec_(client, options_.kill_grace),
      default_shutdown_ms_(options_.default_shutdown_timeout.count()),
      default_pids_limit_(options_.default_pids_limit),
      control_(
          store_, tasks_, events_,
          [this] { return std::chrono::milliseconds(default_shutdown_ms_.load()); },
          [this] { return default_pids_limit_.load(); }),
      health_(store_, tasks_, events_,
              options_.health_probe ? options_.health_probe
                                    : [this](std::string_view ns, std::string_view id,
                                             const std::vector<std::string>& argv,
                                             std::chrono::milliseconds timeout,
                                             const std::function<bool()>& cancelled) {
                                        return exec(ns, id, argv, timeout,
                                                    {.cancelled = cancelled, .quiet = true});
                                      },
              [this] { return std::chrono::milliseconds(default_shutdown_ms_.load()); }) {
  options_.log_root = logs_.options().log_root;  // made absolute
  runtime_choice_ = options_.runtime;
}

void ContainerService::setRuntimeChoice(RuntimeChoice choice) {
  std::lock_guard lock(runtime_mutex_);
  runtime_choice_ = std::move(choice);
}

RuntimeChoice ContainerService::runtimeChoice() const {
  std::lock_guard lock(runtime_mutex_);
  return runtime_choice_;
}

void ContainerService::setDefaults(std::chrono::milliseconds shutdown_timeout,
                                   std::int64_t pids_limit) {
  default_shutdown_ms_ = shutdown_timeout.count();
  default_pids_limit_ = pids_limit;
}

Result<ContainerService::RunPlan> ContainerService::plan(std::string_view ns,
                                                         const ContainerSpec& requested) {
  ContainerSpec spec = requested;
  if (spec.shutdown_timeout.count() == 0) {
    spec.shutdown_timeout = std::chrono::milliseconds(default_shutdown_ms_.load());
  }
  std::optional<images::ImageInfo> image;
  if (!spec.image.empty()) {
    // The image fills fields, so the whole spec is checked once, after the merge.
    CONTD_RETURN_IF_ERROR(validateImageRequest(ns, spec));
    auto found = applyImage(options_.images, ns, spec);
    if (!found) {
      return found.error();
    }
    image = std::move(found).value();
  }
  auto valid = validateSpec(ns, spec,
                            ValidationEnv{.netns_dir = options_.netns_dir,
                                          .check_netns = options_.check_netns,
                                          .mount_sources = options_.mount_sources,
                                          .allow_elevated = options_.allow_elevated});
  if (!valid) {
    return explainImageUser(valid.error(), requested, spec);
  }
  // Before anything is created: an unknown user name leaves nothing behind.
  auto user = resolveRunUser(*valid, options_.images, image);
  if (!user) {
    return user.error();
  }
  SpecOptions spec_options;
  spec_options.resolv_conf = options_.resolv_conf;
  spec_options.default_pids_limit = default_pids_limit_.load();
  spec_options.seccomp_profile = options_.seccomp_profile;
  auto runtime = buildRuntimeSpec(*valid, spec_options, *user);
  if (!runtime) {
    return runtime.error();
  }
  return RunPlan{.valid = std::move(valid).value(),
                 .image = std::move(image),
                 .runtime = std::move(runtime).value()};
}

Result<std::string> ContainerService::run(std::string_view ns, const ContainerSpec& requested) {
  auto plan = this->plan(ns, requested);
  if (!plan) {
    return plan.error();
  }
  CONTD_RETURN_IF_ERROR(logs_.ensureFolder(ns));
  const std::string& name = plan->valid.spec.name;
  auto guard = store_.lock(ns, name);
  const auto started = Clock::now();

  containerd::ContainerRecord record;
  record.id = name;
  std::string warning;
  applyRuntimeChoice(runtimeChoice(), ns, record, plan->runtime, &seccomp_bpf_, &warning);
  if (!warning.empty()) {
    log::container()->warn("run ns={} id={} {}", ns, name, warning);
  }
  record.spec_json = plan->runtime.dump();
  const std::string runtime_binary = record.runtime_binary;
  if (plan->image) {
    record.labels[kImageLabel] = plan->valid.spec.image;
    record.labels[kImageDigestLabel] = plan->image->manifest_digest;
    record.snapshotter = images::kSnapshotter;
    record.snapshot_key = name;
  }
  const auto log = log::container();
  if (auto created = store_.create(ns, record); !created) {
    if (created.error().code != Code::kAlreadyExists) {
      return created.error();
    }
    const Existing existing = checkExisting(ns, record);
    if (existing == Existing::kRunning) {
      log->info("run of a running container with the same spec ns={} id={}", ns, name);
      return name;
    }
    if (existing == Existing::kOther) {
      return created.error();
    }
    CONTD_RETURN_IF_ERROR(store_.create(ns, std::move(record)));
  }
  log->debug("run step=create-container ns={} id={} ms={:.1f}", ns, name, msSince(started));

  // From here on, any failure removes everything made so far.
  auto task = tasks_.startNew(ns, name, plan->image ? plan->image->chain_id : std::string());
  if (!task) {
    return task.error();
  }
  log->info("started ns={} id={} pid={} ms={:.1f}", ns, name, task->pid, msSince(started));
  if (options_.keeper != nullptr && shimGroupOf(plan->runtime) == ShimGroup::kNamespace) {
    options_.keeper->ensure(ns, runtime_binary);
  }
  events_.publish(
      {.kind = ModuleEvent::Kind::kStarted, .ns = std::string(ns), .id = name, .pid = task->pid});
  return name;
}

ContainerService::Existing ContainerService::checkExisting(
    std::string_view ns, const containerd::ContainerRecord& wanted) {
  auto existing = store_.get(ns, wanted.id);
  if (!existing || existing->spec_json != wanted.spec_json ||
      existing->snapshot_key != wanted.snapshot_key) {
    return Existing::kOther;
  }
  auto task = tasks_.state(ns, wanted.id);
  if (!task) {
    return Existing::kOther;
  }
  const Lifecycle lifecycle = lifecycleFrom(existing->labels);
  if (*task && (*task)->status != TaskStatus::kStopped && (*task)->status != TaskStatus::kCreated) {
    return lifecycle.stopping ? Existing::kOther : Existing::kRunning;
  }
  const bool never_ran = lifecycle.exits.empty() && lifecycle.restarts == 0;
  if ((*task && (*task)->status == TaskStatus::kStopped) || !never_ran || lifecycle.stopping) {
    return Existing::kOther;
  }
  log::container()->info("run discards what an interrupted Run left ns={} id={}", ns, wanted.id);
  tasks_.discard(ns, wanted.id);
  return Existing::kDiscarded;
}

ContainerInfo ContainerService::describe(std::string_view ns,
                                         const containerd::ContainerRecord& record,
                                         const Result<StoredSpec>& stored,
                                         const std::optional<containerd::TaskState>& task) const {
  ContainerInfo info;
  info.ns = std::string(ns);
  if (stored) {
    info.spec = stored->spec;
    if (info.spec.restart == RestartMode::kDefault) {  // a record older than restart modes
      info.spec.restart = RestartMode::kAlways;
    }
  } else {
    log::container()->warn("inspect ns={} id={} error=\"{}\"", ns, record.id,
                           stored.error().message);
    info.spec.name = record.id;
  }
  info.created_at = record.created_at;
  info.runtime = runtimeOf(record);
  info.shim_group = std::string(
      shimGroupName(stored ? shimGroupOf(stored->runtime) : ShimGroup::kNone));
  if (auto digest = record.labels.find(kImageDigestLabel); digest != record.labels.end()) {
    info.image_digest = digest->second;
  }
  info.log_path = logs_.path(ns, record.id).string();
  const LogHealth health = logs_.health(ns, record.id);
  info.log_writer_restarts = health.writer_restarts;
  info.log_dropped_bytes = health.dropped_bytes;
  const Lifecycle lifecycle = lifecycleFrom(record.labels);
  info.restart_count = lifecycle.restarts;
  info.exits = lifecycle.exits;
  info.stopping = lifecycle.stopping;
  describeState(task, lifecycle, info);
  if (info.spec.health) {
    info.health = health_.state(ns, record.id, info.pid);
    if (!info.health && info.status == ContainerStatus::kRunning) {
      info.health = HealthState{};  // not checked yet (by this contd): starting
    }
  }
  return info;
}

Result<ContainerInfo> ContainerService::inspect(std::string_view ns, std::string_view id) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  auto task = tasks_.state(ns, id);
  if (!task) {
    return task.error().wrap("inspect '" + std::string(id) + "'");
  }
  return describe(ns, *record, readStoredSpec(*record), *task);
}

Result<InspectedContainer> ContainerService::inspectWithRuntimeSpec(std::string_view ns,
                                                                   std::string_view id) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  auto task = tasks_.state(ns, id);
  if (!task) {
    return task.error().wrap("inspect '" + std::string(id) + "'");
  }
  auto stored = readStoredSpec(*record);
  if (!stored) {
    return stored.error().wrap("inspect '" + std::string(id) + "'");
  }
  ContainerInfo info = describe(ns, *record, stored, *task);
  return InspectedContainer{std::move(info), std::move(stored->runtime)};
}

Status ContainerService::remove(std::string_view ns, std::string_view id) {
  auto guard = store_.lock(ns, id);
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  auto timeout = std::chrono::milliseconds(default_shutdown_ms_.load());
  if (auto stored = readStoredSpec(*record); stored && stored->spec.shutdown_timeout.count() > 0) {
    timeout = stored->spec.shutdown_timeout;
  }
  // The "stopping" label keeps the restart policy off a Delete that fails half-way, here
  // and in the next contd. It is written while the container stops, off Delete's critical
  // path: until this returns nothing else acts on the container (every actor takes its
  // lock), and a label landing after the record's removal is refused harmlessly.
  std::future<Status> marked;
  if (!lifecycleFrom(record->labels).stopping) {
    marked = std::async(std::launch::async, [this, ns = std::string(ns), id = std::string(id)] {
      return store_.markStopping(ns, id);
    });
  }
  auto removed = tasks_.stopAndRemove(ns, id, timeout, !record->snapshot_key.empty());
  if (marked.valid()) {
    if (auto mark = marked.get(); !mark && !removed) {
      log::container()->warn("delete ns={} id={} mark as stopping error=\"{}\"", ns, id,
                             mark.error().message);
    }
  }
  if (!removed) {
    return removed.error().wrap("delete '" + std::string(id) + "' in '" + std::string(ns) + "'");
  }
  events_.publish({.kind = ModuleEvent::Kind::kDeleted, .ns = std::string(ns), .id = std::string(id)});
  return okStatus();
}

Status ContainerService::signalDelete(std::string_view ns, std::string_view id) {
  auto guard = store_.lock(ns, id);
  auto record = store_.get(ns, id);
  if (!record) {
    // Asking an absent container to go away has nothing left to do.
    return record.error().code == Code::kNotFound ? okStatus() : Status(record.error());
  }
  if (auto marked = store_.markStopping(ns, id); !marked) {
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
    auto all = store_.allNamespaces();
    if (!all) {
      return all.error();
    }
    namespaces = std::move(all).value();
  } else {
    namespaces.emplace_back(ns);
  }
  std::vector<ContainerInfo> infos;
  for (const auto& name : namespaces) {
    auto records = store_.list(name);
    if (!records) {
      return records.error();
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
      infos.push_back(describe(name, record, readStoredSpec(record), task));
    }
  }
  return infos;
}

Result<std::vector<std::string>> ContainerService::listNamespaces() {
  auto all = store_.allNamespaces();
  if (!all) {
    return all.error();
  }
  // Only namespaces where contd has containers: the others belong to someone else.
  std::vector<std::string> ours;
  for (const auto& ns : *all) {
    auto records = store_.list(ns);
    if (!records) {
      return records.error();
    }
    if (!records->empty()) {
      ours.push_back(ns);
    }
  }
  return ours;
}

Result<bool> ContainerService::exists(std::string_view ns, std::string_view id) {
  auto record = store_.get(ns, id);
  if (record) {
    return true;
  }
  if (record.error().code == Code::kNotFound) {
    return false;
  }
  return record.error();
}

Result<containerd::TaskMetrics> ContainerService::stats(std::string_view ns, std::string_view id) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  auto metrics = client_.metrics(ns, id);
  if (!metrics) {
    return metrics.error().wrap("stats of '" + std::string(id) + "'");
  }
  return metrics;
}

Result<nlohmann::json> ContainerService::runtimeSpec(std::string_view ns, std::string_view id) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  auto stored = readStoredSpec(*record);
  if (!stored) {
    return stored.error();
  }
  return std::move(stored->runtime);
}

}  // namespace contd::container
