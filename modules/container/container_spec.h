#pragma once
// The container module's own description of a container: what a caller asks Run for
// (ContainerSpec) and what Inspect/List give back (ContainerInfo). Both API surfaces
// (gRPC in api/contd/v1, zbus) convert to and from these types.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "modules/common/result.h"

namespace contd::container {

struct MountSpec {
  std::string source;  // host path; must exist
  std::string target;  // absolute path inside the container, never "/"
  bool readonly = false;

  bool operator==(const MountSpec&) const = default;
};

// When the restart policy starts a container again after its process ended on its own
// (docs/lifecycle.md). kDefault is what a caller gets without asking: kNo with auto_remove,
// kAlways otherwise (what every container got before policies existed); Run stores the
// mode it resolved to, never kDefault.
enum class RestartMode { kDefault, kNo, kOnFailure, kAlways };

std::string_view restartModeName(RestartMode mode);  // "", "no", "on-failure", "always"
std::optional<RestartMode> restartModeFromName(std::string_view name);

// A command run inside the running container every `interval` (docs/lifecycle.md, "Health
// checks"): exit code 0 is a pass, anything else (or outliving `timeout`) a failure;
// `retries` failures in a row make the container unhealthy. Failures within `start_period`
// of the start do not count until a check has passed. Zero means the default (30 s, 30 s,
// 3); Run stores the values it resolved to.
struct HealthCheckSpec {
  std::vector<std::string> argv;  // not run by a shell
  std::chrono::milliseconds interval{0};
  std::chrono::milliseconds timeout{0};
  std::uint32_t retries = 0;
  std::chrono::milliseconds start_period{0};

  bool operator==(const HealthCheckSpec&) const = default;
};

struct ContainerSpec {
  std::string name;    // container id in containerd; containerd identifier rule, <= 64 chars
  std::string rootfs;  // absolute path of an existing host directory
  // Or: the name of an image imported into the namespace (exactly one of rootfs and image).
  // Run fills the command, env, working_dir and user the caller left empty from the image's
  // config (docs/images.md) and gives the container a snapshot of its own.
  std::string image;
  // The command: `argv` when given, else `entrypoint` split like a shell would
  // (quotes and backslash escapes, no expansion).
  std::string entrypoint;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "KEY=VALUE"
  std::string working_dir;       // absolute; "/" when empty
  // A name under /var/run/netns, or an absolute path to a netns file. Required.
  std::string network_namespace;
  std::vector<MountSpec> mounts;
  bool interactive = false;  // kept for the zbus contract; contd allocates no terminal
  std::uint32_t cpu = 0;            // CPU count as a CFS quota; 0 = no CPU limit
  std::uint64_t memory_bytes = 0;   // memory limit; 0 = no memory limit
  std::int64_t pids_limit = 0;      // 0 = the module's default limit; -1 = unlimited
  std::string hostname;             // defaults to the container name
  std::vector<std::string> tags;    // free-form, kept and returned by Inspect
  bool elevated = false;            // adds CAP_SYS_ADMIN and /dev/fuse
  // "", "private", "rprivate", "slave", "rslave", "shared", "rshared".
  std::string rootfs_propagation;
  std::chrono::milliseconds shutdown_timeout{0};  // 0 = the module's default (3 s)
  // Seccomp filter: "" or "default" (the daemon's profile, see docs/security.md),
  // "unconfined" (none; logged as a warning), or the absolute path of a profile file.
  std::string seccomp;
  bool readonly_rootfs = false;  // mounts the rootfs read-only (mounts and /dev stay writable)
  // Who the processes run as: "" (root, 0:0), "uid", "uid:gid", "name", "name:group",
  // "uid:group" or "name:gid"; names are looked up in the container's own /etc/passwd and
  // /etc/group at Run (user_lookup.h). From an image, empty means the image's User.
  std::string user;
  RestartMode restart = RestartMode::kDefault;
  // With kOnFailure: restarts allowed since Run or the last Start before the policy gives
  // up (the container is then FAILED); 0: only the daemon's own give-up rule applies.
  std::uint32_t restart_max = 0;
  // When the process ends and the policy does not start it again, the container is removed
  // (task, record, snapshot; the log stays). Only with kNo (or kDefault, which then is kNo).
  bool auto_remove = false;
  std::optional<HealthCheckSpec> health;  // none: no health check

  bool operator==(const ContainerSpec&) const = default;
};

// Update's request: the cgroup limits to change, with ContainerSpec's meanings; an unset
// one stays as it is.
struct LimitsUpdate {
  std::optional<std::uint32_t> cpu;
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::int64_t> pids_limit;

  bool empty() const { return !cpu && !memory_bytes && !pids_limit; }
  // `spec` with the set limits put in.
  ContainerSpec appliedTo(ContainerSpec spec) const;
  bool operator==(const LimitsUpdate&) const = default;
};

// The set limits as "cpu=2 memory_bytes=67108864 pids_limit=-1" (the UPDATED event's
// message, the log line's fields).
std::string limitsText(const LimitsUpdate& update);

// kBackingOff: exited on its own, waiting for the restart policy's next try.
// kFailed: the restart policy gave up; contd leaves it alone until it is deleted.
enum class ContainerStatus { kUnknown, kCreated, kRunning, kStopped, kBackingOff, kFailed };

std::string_view containerStatusName(ContainerStatus status);

// What contd will make of a container: keep it running (restarting it as its policy
// says), leave it stopped (Stop, or an exit its policy does not restart), or remove it
// (Delete or SignalDelete asked, or auto_remove after its exit).
enum class DesiredState { kRunning, kStopped, kRemoved };

std::string_view desiredStateName(DesiredState state);

// Nanoseconds since the Unix epoch; 0 when unset.
using UnixNanos = std::int64_t;

// One end of the container's init process, as the restart policy recorded it.
struct Termination {
  UnixNanos time = 0;
  std::int32_t code = -1;  // exit code (128+signal when killed); -1: a restart that failed
  bool oom_killed = false;
  // contd ended it because its health check made it unhealthy: a failure whatever its code.
  bool unhealthy = false;

  bool operator==(const Termination&) const = default;
};

// A container's health as its checks found it (health_state.h has the rules).
enum class HealthStatus { kStarting, kHealthy, kUnhealthy };

std::string_view healthStatusName(HealthStatus status);  // "starting", "healthy", "unhealthy"

// One run of the health check.
struct HealthResult {
  UnixNanos start = 0;
  UnixNanos end = 0;
  std::int32_t exit_code = -1;  // -1: it timed out, or could not be run
  std::string output;           // stdout and stderr, the last kHealthOutputLimit bytes

  bool operator==(const HealthResult&) const = default;
};

struct HealthState {
  HealthStatus status = HealthStatus::kStarting;
  std::uint32_t failing_streak = 0;  // failures in a row that counted
  std::vector<HealthResult> log;     // the last kHealthLogSize results, oldest first

  bool operator==(const HealthState&) const = default;
};

inline constexpr std::size_t kHealthLogSize = 5;
inline constexpr std::size_t kHealthOutputLimit = 4096;

struct ContainerInfo {
  std::string ns;
  ContainerSpec spec;  // as given to Run, with defaults filled in
  ContainerStatus status = ContainerStatus::kUnknown;
  std::uint32_t pid = 0;        // 0 when no process runs
  std::int32_t exit_code = -1;  // -1 while running or never run
  UnixNanos exited_at = 0;
  UnixNanos created_at = 0;
  std::string log_path;
  // Kept in containerd's record, so they survive restarts of contd.
  std::uint32_t restart_count = 0;
  std::vector<Termination> exits;  // the last few, oldest first
  UnixNanos next_retry = 0;        // with kBackingOff
  bool stopping = false;           // Delete or SignalDelete asked it to go
  DesiredState desired = DesiredState::kRunning;
  // From the log writer's health file, <log_root>/<ns>/.<name>.log.health (docs/logs.md);
  // 0 when there is none.
  std::uint64_t log_writer_restarts = 0;
  std::uint64_t log_dropped_bytes = 0;
  // The manifest digest of spec.image when the container was made; empty for a rootfs.
  std::string image_digest;
  // With spec.health: what its checks found (kept in contd's memory, docs/lifecycle.md);
  // none when contd knows nothing of a container that does not run.
  std::optional<HealthState> health;
  // What the record says it runs with (runtime_choice.h): "runc", "crun" or a path, and
  // "none" or "namespace".
  std::string runtime;
  std::string shim_group;
};

// The spec as stored in containerd's record (a spec annotation), so that Inspect after a
// restart of contd returns exactly what Run was given. fromJson names the first bad field.
nlohmann::json toJson(const ContainerSpec& spec);
Result<ContainerSpec> specFromJson(const nlohmann::json& json);

}  // namespace contd::container
