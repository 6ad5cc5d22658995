#include "modules/container/shim_keeper.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <nlohmann/json.hpp>

#include "modules/common/logging.h"
#include "modules/container/runtime_choice.h"
#include "modules/container/spec_builder.h"

namespace contd::container {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr char kKeeperInRoot[] = "/contd-keeper";
// Enough for the runtime's set-up of the process; the keeper itself never forks.
constexpr int kKeeperPids = 8;
constexpr std::int64_t kKeeperMemory = 8LL << 20;
constexpr auto kStopGrace = std::chrono::milliseconds(2000);

json keeperProcess() {
  const json none = json::array();
  return {{"terminal", false},
          {"user", {{"uid", 65534}, {"gid", 65534}}},
          {"args", {kKeeperInRoot}},
          {"env", {"PATH=/"}},
          {"cwd", "/"},
          {"capabilities",
           {{"bounding", none}, {"effective", none}, {"permitted", none}, {"inheritable", none},
            {"ambient", none}}},
          {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 64}, {"soft", 64}}}},
          {"noNewPrivileges", true}};
}

json keeperMounts(const fs::path& binary) {
  return json::array(
      {{{"destination", "/proc"},
        {"type", "proc"},
        {"source", "proc"},
        {"options", {"nosuid", "noexec", "nodev"}}},
       {{"destination", "/dev"},
        {"type", "tmpfs"},
        {"source", "tmpfs"},
        {"options", {"nosuid", "noexec", "strictatime", "mode=755", "size=64k"}}},
       {{"destination", kKeeperInRoot},
        {"type", "bind"},
        {"source", binary.string()},
        {"options", {"rbind", "ro", "nosuid", "nodev"}}}});
}

}  // namespace

json keeperSpec(std::string_view ns, const fs::path& keeper_root) {
  const std::string name = std::string(ns) + "/" + kKeeperId;
  return {
      {"ociVersion", kOciVersion},
      {"process", keeperProcess()},
      {"root", {{"path", (keeper_root / "rootfs").string()}, {"readonly", true}}},
      {"hostname", kKeeperId},
      {"mounts", keeperMounts(keeper_root / "contd-keeper")},
      {"linux",
       {{"cgroupsPath", "/" + name},
        {"resources",
         {{"devices", {{{"allow", false}, {"access", "rwm"}}}},
          {"pids", {{"limit", kKeeperPids}}},
          {"memory", {{"limit", kKeeperMemory}}}}},
        {"namespaces",
         {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}},
          {{"type", "network"}}}},
        {"maskedPaths", {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"}},
        {"readonlyPaths", {"/proc/sys", "/proc/sysrq-trigger"}}}},
      {"annotations", {{kShimGroupAnnotation, std::string(ns)}}},
  };
}

ShimKeeper::ShimKeeper(containerd::Client& client, KeeperOptions options)
    : client_(client), options_(std::move(options)) {
  setKeepalive(options_.keepalive);
}

ShimKeeper::~ShimKeeper() = default;

void ShimKeeper::ensure(std::string_view ns, const std::string& runtime_binary) {
  if (keepalive_ms_.load() <= 0) {
    return;
  }
  const auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    Seen& seen = seen_[std::string(ns)];
    seen.last_used = now;
    if (seen.pending || (seen.running && now - seen.checked < options_.recheck)) {
      return;
    }
    seen.pending = true;
  }
  scheduler_.post([this, ns = std::string(ns), runtime_binary] { check(ns, runtime_binary); });
}

void ShimKeeper::check(const std::string& ns, const std::string& runtime_binary) {
  auto task = client_.getTask(ns, kKeeperId);
  bool running = task && task->status == containerd::TaskStatus::kRunning;
  bool made = false;
  if (!running) {
    const auto started = Clock::now();
    if (auto started_keeper = start(ns, runtime_binary); !started_keeper) {
      log::container()->warn("op=keeper ns={} make failed error=\"{}\"", ns,
                             started_keeper.error().message);
    } else {
      running = true;
      made = true;
      log::container()->info("op=keeper ns={} made ms={}", ns,
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                 Clock::now() - started).count());
    }
  }
  Clock::time_point due;
  bool schedule = false;
  {
    std::lock_guard lock(mu_);
    Seen& seen = seen_[ns];
    seen.pending = false;
    seen.running = running;
    seen.checked = Clock::now();
    schedule = running && !seen.expiry_scheduled;
    seen.expiry_scheduled = seen.expiry_scheduled || schedule;
    due = seen.last_used + std::chrono::milliseconds(keepalive_ms_.load());
    if (made) {
      ++made_;  // once the state says so: an ensure() that sees the count sees the state
    }
  }
  if (schedule) {
    scheduleExpiry(ns, due);
  }
}

Status ShimKeeper::prepareRoot() const {
  // <root>/rootfs (read-only in the container) with the mount points; <root>/contd-keeper a
  // copy of the binary: the bind source must stay valid while the keeper runs, also across
  // an upgrade that replaces the installed file.
  // Modes set outright: contd's umask (UMask=0027 under systemd) would keep uid 65534 out
  // of its own root.
  std::error_code ec;
  const fs::path rootfs = options_.root / "rootfs";
  for (const fs::path& dir : {options_.root, rootfs, rootfs / "proc", rootfs / "dev"}) {
    fs::create_directories(dir, ec);
    if (!ec) {
      fs::permissions(dir, fs::perms(0755), ec);
    }
    if (ec) {
      return sysError("mkdir '" + dir.string() + "'", ec.value());
    }
  }
  const fs::path mount_point = rootfs / "contd-keeper";
  if (!fs::exists(mount_point, ec)) {
    const int fd = ::open(mount_point.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
      return sysError("create '" + mount_point.string() + "'", errno);
    }
    ::close(fd);
  }
  const fs::path copy = options_.root / "contd-keeper";
  const fs::path fresh = options_.root / "contd-keeper.new";
  fs::copy_file(options_.binary, fresh, fs::copy_options::overwrite_existing, ec);
  if (!ec) {
    fs::permissions(fresh, fs::perms(0755), ec);
  }
  if (ec) {
    return sysError("copy '" + options_.binary.string() + "'", ec.value());
  }
  fs::rename(fresh, copy, ec);  // a running keeper keeps the file it was started with
  if (ec) {
    return sysError("rename '" + fresh.string() + "'", ec.value());
  }
  return okStatus();
}

Status ShimKeeper::start(std::string_view ns, const std::string& runtime_binary) {
  // What a keeper that died left: its stopped task, maybe its record.
  if (auto old = client_.deleteTask(ns, kKeeperId); !old && old.error().code != Code::kNotFound) {
    (void)client_.killTask(ns, kKeeperId, SIGKILL, true);
    (void)client_.deleteTask(ns, kKeeperId);
  }
  CONTD_RETURN_IF_ERROR(prepareRoot());
  containerd::ContainerRecord record;
  record.id = kKeeperId;
  record.labels[kKeeperLabel] = "true";
  record.runtime_binary = runtime_binary;
  record.spec_json = keeperSpec(ns, options_.root).dump();
  if (auto created = client_.createContainer(ns, record);
      !created && created.error().code != Code::kAlreadyExists) {
    return created.error().wrap("create the keeper record");
  }
  // A record a previous keeper left may name another runtime: the spec is the same.
  auto task = client_.createTask(ns, kKeeperId, containerd::TaskIo{}, std::chrono::seconds(10));
  if (!task) {
    return task.error().wrap("create the keeper task");
  }
  if (auto started = client_.startTask(ns, kKeeperId); !started) {
    (void)client_.deleteTask(ns, kKeeperId);
    return started.error().wrap("start the keeper");
  }
  return okStatus();
}

void ShimKeeper::adopt() {
  scheduler_.post([this] { adoptNow(); });
}

void ShimKeeper::adoptNow() {
  auto namespaces = client_.listNamespaces();
  if (!namespaces) {
    log::container()->warn("op=keeper adopt failed error=\"{}\"", namespaces.error().message);
    return;
  }
  for (const std::string& ns : *namespaces) {
    if (!client_.getContainer(ns, kKeeperId)) {
      continue;
    }
    const auto now = Clock::now();
    {
      std::lock_guard lock(mu_);
      Seen& seen = seen_[ns];
      seen.last_used = now;
      seen.expiry_scheduled = true;
    }
    log::container()->info("op=keeper ns={} adopted", ns);
    scheduleExpiry(ns, now + std::chrono::milliseconds(keepalive_ms_.load()));
  }
}

void ShimKeeper::scheduleExpiry(const std::string& ns, Clock::time_point at) {
  scheduler_.postAt(at, [this, ns] { expire(ns); });
}

void ShimKeeper::expire(const std::string& ns) {
  const auto keepalive = std::chrono::milliseconds(keepalive_ms_.load());
  Clock::time_point due;
  {
    std::lock_guard lock(mu_);
    Seen& seen = seen_[ns];
    due = seen.last_used + keepalive;
    if (keepalive.count() > 0 && Clock::now() < due) {
      scheduleExpiry(ns, due);  // used since: look again when it is due
      return;
    }
    seen_.erase(ns);
  }
  if (auto gone = remove(ns); !gone) {
    log::container()->warn("op=keeper ns={} remove failed error=\"{}\"", ns, gone.error().message);
    return;
  }
  ++removed_;
  log::container()->info("op=keeper ns={} removed idle_ms={}", ns, keepalive.count());
}

Status ShimKeeper::remove(std::string_view ns) {
  // SIGTERM ends it at once (keeper/main.cc); a stopped or missing task answers kNotFound.
  if (client_.killTask(ns, kKeeperId, SIGTERM, false) &&
      !client_.waitTask(ns, kKeeperId, kStopGrace)) {
    (void)client_.killTask(ns, kKeeperId, SIGKILL, true);
    (void)client_.waitTask(ns, kKeeperId, kStopGrace);
  }
  if (auto deleted = client_.deleteTask(ns, kKeeperId);
      !deleted && deleted.error().code != Code::kNotFound) {
    return deleted.error().wrap("delete the keeper task");
  }
  if (auto deleted = client_.deleteContainer(ns, kKeeperId);
      !deleted && deleted.error().code != Code::kNotFound) {
    return deleted.error().wrap("delete the keeper record");
  }
  return okStatus();
}

}  // namespace contd::container
