#include "modules/container/spec_builder.h"

#include <string>
#include <system_error>
#include <vector>

#include "modules/common/logging.h"
#include "modules/container/validation.h"
#include "modules/seccomp/profile.h"

namespace contd::container {
namespace {

using nlohmann::json;

// CFS period of 100 ms, the kernel default: a quota of n periods is n CPUs' worth of time.
constexpr std::int64_t kCpuPeriodUs = 100000;
constexpr std::uint64_t kNofileLimit = 1024;
constexpr std::int64_t kFuseMajor = 10;
constexpr std::int64_t kFuseMinor = 229;

json userSection(const ProcessUser& user) {
  json section = {{"uid", user.uid}, {"gid", user.gid}};
  if (!user.additional_gids.empty()) {
    section["additionalGids"] = user.additional_gids;
  }
  return section;
}

json processSection(const ContainerSpec& spec, const std::vector<std::string>& args,
                    const ProcessUser& user) {
  // Without PATH runc cannot find a bare command name, and a rootfs made for `sh -c` style
  // entrypoints expects the usual one; a PATH the caller gives wins.
  std::vector<std::string> env;
  bool has_path = false;
  for (const auto& entry : spec.env) {
    has_path = has_path || entry.rfind("PATH=", 0) == 0;
  }
  if (!has_path) {
    env.push_back(kDefaultPathEnv);
  }
  env.insert(env.end(), spec.env.begin(), spec.env.end());

  const json caps = json(capabilitySet(spec.elevated));
  // Inheritable and ambient stay empty: a capability must not survive an execve of a
  // non-root binary inside (the reason containerd dropped inheritable in 1.6.18).
  return json{
      {"terminal", false},
      {"user", userSection(user)},
      {"args", args},
      {"env", std::move(env)},
      {"cwd", spec.working_dir.empty() ? std::string("/") : spec.working_dir},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits",
       json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", kNofileLimit}, {"soft", kNofileLimit}}})},
      {"noNewPrivileges", true},
  };
}

json mount(std::string destination, std::string type, std::string source,
           std::vector<std::string> options) {
  return json{{"destination", std::move(destination)},
              {"type", std::move(type)},
              {"source", std::move(source)},
              {"options", std::move(options)}};
}

bool isRegularFile(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);  // follows the usual resolv.conf symlink
}

json mountsSection(const ContainerSpec& spec, const SpecOptions& options) {
  // The /dev tmpfs and the mount namespace together keep runc from creating device nodes
  // in, or leaving bind mounts on, the host directory that is the rootfs.
  json mounts = json::array({
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  });
  // A host without resolv.conf (some minimal nodes) still runs containers, just without DNS
  // configuration from the host; failing Run for it would help nobody.
  if (!options.resolv_conf.empty() && isRegularFile(options.resolv_conf)) {
    mounts.push_back(mount("/etc/resolv.conf", "bind", options.resolv_conf.string(),
                           {"rbind", "rprivate", "ro"}));
  }
  // rprivate: mounts made later on the host must not propagate into the container, nor the
  // container's (an elevated one can mount) out to the host.
  for (const auto& m : spec.mounts) {
    std::vector<std::string> mount_options = {"rbind", "rprivate"};
    if (m.readonly) {
      mount_options.push_back("ro");
    }
    mounts.push_back(mount(m.target, "bind", m.source, std::move(mount_options)));
  }
  return mounts;
}

json allowCharDevice(std::int64_t major, std::optional<std::int64_t> minor) {
  json rule = {{"allow", true}, {"type", "c"}, {"major", major}, {"access", "rwm"}};
  if (minor) {
    rule["minor"] = *minor;  // absent means any minor, as for the pts range
  }
  return rule;
}

// Deny everything, then containerd's WithDefaultUnixDevices list: the nodes every program
// expects plus the pty range; /dev/fuse only for elevated containers.
json deviceRules(bool elevated) {
  json rules = json::array({
      json{{"allow", false}, {"access", "rwm"}},  // everything else
      allowCharDevice(1, 3),                      // /dev/null
      allowCharDevice(1, 8),                      // /dev/random
      allowCharDevice(1, 7),                      // /dev/full
      allowCharDevice(5, 0),                      // /dev/tty
      allowCharDevice(1, 5),                      // /dev/zero
      allowCharDevice(1, 9),                      // /dev/urandom
      allowCharDevice(5, 1),                      // /dev/console
      allowCharDevice(136, {}),                   // /dev/pts/*
      allowCharDevice(5, 2),                      // /dev/ptmx
  });
  if (elevated) {
    rules.push_back(allowCharDevice(kFuseMajor, kFuseMinor));
  }
  return rules;
}

// The members of linux.resources each limit lives in.
constexpr char kMemory[] = "memory";
constexpr char kCpu[] = "cpu";
constexpr char kPids[] = "pids";

// The one mapping of the cgroup limits to linux.resources members; a limit that is off has
// no member (runc create then sets none).
json memoryLimit(const ContainerSpec& spec) {
  if (spec.memory_bytes == 0) {
    return nullptr;
  }
  return {{"limit", static_cast<std::int64_t>(spec.memory_bytes)}};
}

json cpuLimit(const ContainerSpec& spec) {
  if (spec.cpu == 0) {
    return nullptr;
  }
  return {{"quota", static_cast<std::int64_t>(spec.cpu) * kCpuPeriodUs},
          {"period", static_cast<std::uint64_t>(kCpuPeriodUs)}};
}

json pidsLimit(const ContainerSpec& spec, std::int64_t default_pids_limit) {
  // A fork bomb in one container must not starve the node of pids, so 0 means the module's
  // default rather than none; only an explicit -1 lifts the limit.
  const std::int64_t pids = spec.pids_limit == 0 ? default_pids_limit : spec.pids_limit;
  if (pids <= 0) {
    return nullptr;
  }
  return {{"limit", pids}};
}

// Sets `resources[member]` to `limit`, or removes the member for a limit that is off.
void putLimit(json& resources, const char* member, json limit) {
  if (limit.is_null()) {
    resources.erase(member);
  } else {
    resources[member] = std::move(limit);
  }
}

json resourcesSection(const ContainerSpec& spec, const SpecOptions& options) {
  json resources = {{"devices", deviceRules(spec.elevated)}};
  putLimit(resources, kMemory, memoryLimit(spec));
  putLimit(resources, kCpu, cpuLimit(spec));
  putLimit(resources, kPids, pidsLimit(spec, options.default_pids_limit));
  return resources;
}

json linuxSection(const ValidSpec& valid, const SpecOptions& options) {
  const ContainerSpec& spec = valid.spec;
  json section = {
      {"resources", resourcesSection(spec, options)},
      {"cgroupsPath", "/" + valid.ns + "/" + spec.name},
      {"namespaces", json::array({
                         {{"type", "pid"}},
                         {{"type", "ipc"}},
                         {{"type", "uts"}},
                         {{"type", "mount"}},
                         {{"type", "network"}, {"path", valid.netns_path.string()}},
                     })},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/sys/devices/virtual/powercap", "/proc/scsi"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  if (spec.elevated) {
    // runc creates the node in the container's /dev tmpfs; the cgroup rule lets it be used.
    section["devices"] = json::array({{{"path", "/dev/fuse"},
                                       {"type", "c"},
                                       {"major", kFuseMajor},
                                       {"minor", kFuseMinor},
                                       {"fileMode", 0666},
                                       {"uid", 0},
                                       {"gid", 0}}});
  }
  if (!spec.rootfs_propagation.empty()) {
    section["rootfsPropagation"] = spec.rootfs_propagation;
  }
  return section;
}

// The linux.seccomp object for `spec`, or none.
Result<std::optional<json>> seccompSection(std::string_view ns, const ContainerSpec& spec,
                                           const SpecOptions& options) {
  const auto log = log::container();
  if (spec.seccomp == kSeccompUnconfined) {
    log->warn("seccomp unconfined ns={} name={}: no syscall filter", ns, spec.name);
    return std::optional<json>();
  }
  if (spec.seccomp.empty() || spec.seccomp == kSeccompDefault) {
    if (!options.seccomp_profile) {
      return std::optional<json>();
    }
    return std::optional<json>(
        seccomp::forCapabilities(*options.seccomp_profile, capabilitySet(spec.elevated)));
  }
  auto profile = seccomp::loadProfile(spec.seccomp);
  if (!profile) {
    return profile.error().wrap("seccomp");
  }
  if (!profile->unknown_names.empty()) {
    log->warn("seccomp profile={} ns={} name={}: {} syscall names unknown to libseccomp on {} "
              "left out: {}",
              spec.seccomp, ns, spec.name, profile->unknown_names.size(),
              seccomp::nativeArchitecture(), json(profile->unknown_names).dump());
  }
  return std::optional<json>(seccomp::forCapabilities(profile->json, capabilitySet(spec.elevated)));
}

}  // namespace

// containerd's defaultUnixCaps(): enough for typical services running as root inside,
// without anything that reaches the host (no SYS_ADMIN, NET_ADMIN, SYS_MODULE, ...).
std::vector<std::string> capabilitySet(bool elevated) {
  std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  if (elevated) {
    caps.emplace_back("CAP_SYS_ADMIN");
  }
  return caps;
}

Result<nlohmann::json> buildRuntimeSpec(const ValidSpec& valid, const SpecOptions& options,
                                        const ProcessUser& user) {
  const ContainerSpec& spec = valid.spec;
  auto seccomp = seccompSection(valid.ns, spec, options);
  if (!seccomp) {
    return seccomp.error();
  }
  if (spec.elevated) {
    log::container()->info("elevated ns={} name={}: adds CAP_SYS_ADMIN and /dev/fuse", valid.ns,
                           spec.name);
  }
  json linux = linuxSection(valid, options);
  if (*seccomp) {
    linux["seccomp"] = std::move(**seccomp);
  }
  return json{
      {"ociVersion", kOciVersion},
      {"process", processSection(spec, valid.argv, user)},
      // From an image, the shim mounts the snapshot at <bundle>/rootfs.
      {"root",
       {{"path", spec.image.empty() ? spec.rootfs : std::string("rootfs")},
        {"readonly", spec.readonly_rootfs}}},
      {"hostname", spec.hostname.empty() ? spec.name : spec.hostname},
      {"mounts", mountsSection(spec, options)},
      {"annotations",
       {{kSpecAnnotation, toJson(spec).dump()},
        {kShutdownTimeoutAnnotation, std::to_string(spec.shutdown_timeout.count())}}},
      {"linux", std::move(linux)},
  };
}

Result<nlohmann::json> withLimits(const nlohmann::json& runtime, const ContainerSpec& spec,
                                  const LimitsUpdate& changed, std::int64_t default_pids_limit) {
  try {
    json out = runtime;
    json& resources = out.at("linux").at("resources");
    if (changed.memory_bytes) {
      putLimit(resources, kMemory, memoryLimit(spec));
    }
    if (changed.cpu) {
      putLimit(resources, kCpu, cpuLimit(spec));
    }
    if (changed.pids_limit) {
      putLimit(resources, kPids, pidsLimit(spec, default_pids_limit));
    }
    out.at("annotations")[kSpecAnnotation] = toJson(spec).dump();
    return out;
  } catch (const json::exception& e) {
    return internalError("stored runtime spec of '" + spec.name + "': " + e.what());
  }
}

Result<nlohmann::json> liveLimits(const nlohmann::json& runtime) {
  try {
    const json& resources = runtime.at("linux").at("resources");
    // -1 is "no limit" to runc (memory.limit_in_bytes and cfs_quota_us -1, pids.max "max").
    const json off = {{kMemory, {{"limit", -1}}},
                      {kCpu, {{"quota", -1}, {"period", static_cast<std::uint64_t>(kCpuPeriodUs)}}},
                      {kPids, {{"limit", -1}}}};
    json live = json::object();
    for (const char* member : {kMemory, kCpu, kPids}) {
      live[member] = resources.contains(member) ? resources.at(member) : off.at(member);
    }
    return live;
  } catch (const json::exception& e) {
    return internalError(std::string("stored runtime spec: ") + e.what());
  }
}

}  // namespace contd::container
