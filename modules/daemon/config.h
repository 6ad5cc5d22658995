#pragma once
// The daemon's configuration: every knob in one struct, with its default beside it.
// Sources, later ones winning: the defaults below, a JSON file (--config FILE), flags.
//
// The JSON file is an object whose keys are the field names below, e.g.
//   {"listen": "/run/contd/contd.sock", "socket_group": "contd", "log_level": "debug"}
// Unknown keys and wrong types are errors naming the JSON pointer
// ("/log_level: expected string"), so a typo never passes silently.
//
// Pure functions: no logging (the loggers are configured from the result), callable from
// any thread.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/container/defaults.h"

namespace contd::daemon {

// The words seccomp_profile takes besides a path.
inline constexpr std::string_view kSeccompBuiltin = "builtin";
inline constexpr std::string_view kSeccompUnconfined = "unconfined";

struct Config {
  // containerd's API socket.
  std::string containerd_socket = "/run/containerd/containerd.sock";
  // Path of contd's gRPC socket (mode 0660).
  std::string listen = "/run/contd/contd.sock";
  // Group owning the gRPC socket (a name or a gid); empty: root's group.
  std::string socket_group;
  // Container logs go to <log_root>/<namespace>/<name>.log.
  std::string log_root = container::kDefaultLogRoot;
  // contd-shim-logs, the log driver of every container; "" finds it next to the contd
  // executable (a build tree) or else at its installed place (libexec/contd/).
  std::string log_shim;
  // A container's log rotates past log_max_size bytes (0: never); log_max_files are kept.
  std::uint64_t log_max_size = container::kDefaultLogMaxSize;
  std::uint64_t log_max_files = container::kDefaultLogMaxFiles;
  // Back-pressure of container logs (docs/logs.md): "block" (lossless: a container that
  // out-writes its log waits) or "drop" (records beyond log_rate_limit bytes/s are dropped
  // whole and counted).
  std::string log_policy = container::kDefaultLogPolicy;
  std::uint64_t log_rate_limit = container::kDefaultLogRateLimit;
  // The log of a deleted container is kept log_retention_ms at most, and all kept logs
  // together take log_retention_size bytes at most (the oldest go first); 0: none kept.
  // Reloadable (docs/logs.md#retention).
  std::uint64_t log_retention_ms = container::kDefaultLogRetention.count();
  std::uint64_t log_retention_size = container::kDefaultLogRetentionSize;
  // trace, debug, info, warn, error, critical or off.
  std::string log_level = "info";
  // How contd's own lines look on stderr: "text" (a timestamp, the level, the logger, the
  // message) or "json" (one object per line). Under systemd with stderr on the journal,
  // lines go to the journal natively with their fields, whatever this says.
  std::string log_format = "text";
  // Delete waits this long after SIGTERM before SIGKILL, for containers that set none.
  std::uint64_t default_shutdown_timeout_ms = container::kDefaultShutdownTimeout.count();
  // Bound on containerd's task Create (a stuck log driver would block it forever).
  std::uint64_t task_create_timeout_ms = container::kDefaultTaskCreateTimeout.count();
  // pids limit of containers that set none; -1 means unlimited.
  std::int64_t default_pids_limit = container::kDefaultPidsLimit;
  // Restart policy for containers that exit on their own: the n-th exit within the window
  // waits initial * 2^(n-1) (at most max) before the restart; more than max_failures exits
  // within the window mark the container failed.
  std::uint64_t restart_initial_delay_ms = 1000;
  std::uint64_t restart_max_delay_ms = 60000;
  std::uint64_t restart_max_failures = 5;
  std::uint64_t restart_window_ms = 300000;
  // The default seccomp profile of containers (docs/security.md): "builtin" (the profile
  // compiled into contd, the same as the installed /etc/contd/seccomp.json), an absolute
  // path (checked at start: a file that cannot be read or is not a valid profile stops
  // contd), or "unconfined" (no filter unless a container names a profile; logged as a
  // warning at start). Without a config file containers are confined.
  std::string seccomp_profile = std::string(kSeccompBuiltin);
  // Host folders a container may see (docs/security.md): every mounts[i].source and every
  // directory rootfs must lie under one of them (canonical paths). Empty: any.
  std::vector<std::string> mount_sources;
  // Whether Run may make `elevated` containers (CAP_SYS_ADMIN).
  bool allow_elevated = true;
  // How often the systemd STATUS= line (containers running, namespaces) is refreshed.
  std::uint64_t status_interval_ms = 10000;
  // zbus broker (Redis) in zbus URL syntax, e.g. "unix:///var/run/redis.sock" or
  // "tcp://127.0.0.1:6379" (a user part is the AUTH password); empty: no zbus bridge.
  std::string broker;
  // zbus calls served at once (calls on one container are serialised regardless).
  std::uint64_t zbus_workers = 4;
  // Layers one image pull fetches at once (docs/images.md).
  std::uint64_t pull_parallel_layers = 3;
  // The OCI runtime the runc shim runs for containers Run from now on: "runc", "crun" or an
  // absolute path; and "none" (a shim per container) or "namespace" (one shared shim per
  // containerd namespace). Checked at start and on reload (docs/configuration.md); both
  // reloadable for containers Run afterwards.
  std::string runtime = "runc";
  std::string shim_group = "none";
  // With shim_group "namespace": how long a namespace's shim is kept after its last Run, by
  // a keeper container (modules/container/shim_keeper.h); 0: no keeper. Reloadable.
  std::uint64_t shim_keepalive_ms = 60000;
  // With runtime crun: hand crun the seccomp filter compiled once per profile by contd
  // (true), or let crun compile it for every container (false). Reloadable.
  bool seccomp_precompile = true;
  // Prometheus metrics (docs/metrics.md): a textfile for node-exporter's textfile collector
  // (an absolute path ending in .prom; "" for none), and a /metrics listener on loopback
  // ("127.0.0.1:PORT", "[::1]:PORT" or "unix:/PATH"; "" for none).
  std::string metrics_textfile;
  std::string metrics_listen;

  bool operator==(const Config&) const = default;
};

// Reads and validates a JSON config file over the defaults. Errors: kNotFound when the file
// does not exist, kInvalidArgument for bad JSON, unknown keys, wrong types or bad values,
// all prefixed with the file's path: "/etc/contd/config.json: /log_level: expected string".
Result<Config> loadConfigFile(const std::string& path);
// The same on JSON text (no path prefix); for tests.
Result<Config> parseConfig(std::string_view json_text);

// What the command line asked for. Unset optionals leave the file's (or default) value.
struct Flags {
  std::optional<std::string> config_file;
  std::optional<std::string> containerd_socket;
  std::optional<std::string> listen;
  std::optional<std::string> log_root;
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;
  std::optional<std::string> socket_group;
  std::optional<std::string> seccomp_profile;
  std::optional<std::string> broker;
  std::optional<std::string> zbus_workers;
  std::optional<std::string> runtime;
  std::optional<std::string> shim_group;
  bool help = false;
  bool version = false;
};

// Parses the arguments after the program name. Accepts "--flag VALUE" and "--flag=VALUE".
// Errors (kInvalidArgument) name the flag: "--log-level: missing value",
// "unknown flag '--bogus'".
Result<Flags> parseFlags(std::span<const std::string_view> args);
// The defaults, then the file of --config if given, then the other flags; validated.
Result<Config> resolveConfig(const Flags& flags);

// `config` as JSON of the config file's shape: every key, in the order of --help, with its
// value (defaults included), indented; parseConfig reads it back to the same Config. With
// `hide_secrets` (what Info shows), the broker URL's user part, the Redis password, reads
// "***" ("tcp://***@10.0.0.1:6379").
std::string configJson(const Config& config, bool hide_secrets = false);
// `url` with its user part (before the last '@' ahead of the path) replaced by "***".
std::string hideBrokerPassword(std::string_view url);

// The --help text.
std::string usage();

}  // namespace contd::daemon
