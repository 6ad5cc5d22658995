#pragma once
// The container module's defaults, each written once. The daemon's config starts from
// these (modules/daemon/config.h) and the module's option structs default to them, so a
// test or tool that builds the module without a config gets what the daemon gets.

#include <chrono>
#include <cstdint>

namespace contd::container {

// Where a bare network namespace name (what `ip netns add NAME` makes) lives.
inline constexpr char kDefaultNetnsDir[] = "/var/run/netns";
// The PATH a container's process gets when its env gives none (as containerd's).
inline constexpr char kDefaultPathEnv[] =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// pids limit of a container that sets none; <= 0 means unlimited.
inline constexpr std::int64_t kDefaultPidsLimit = 4096;
// Delete waits this long after SIGTERM before SIGKILL, for a container that sets none.
inline constexpr std::chrono::milliseconds kDefaultShutdownTimeout{3000};
// The longest an Exec may run (a larger timeout is refused: it would overflow the deadline).
inline constexpr std::chrono::milliseconds kMaxExecTimeout = std::chrono::hours(24);
// A health check's defaults, docker's and podman's: every 30 s, 30 s to answer, unhealthy
// after 3 failures in a row.
inline constexpr std::chrono::milliseconds kDefaultHealthInterval{30'000};
inline constexpr std::chrono::milliseconds kDefaultHealthTimeout{30'000};
inline constexpr std::uint32_t kDefaultHealthRetries = 3;
// Bound on containerd's task Create (a log driver that never gets ready blocks it).
inline constexpr std::chrono::milliseconds kDefaultTaskCreateTimeout{30000};
// After SIGKILL, how long a stop waits for the exit before giving up.
inline constexpr std::chrono::milliseconds kDefaultKillGrace{5000};
// The cgroup file system (v2's single hierarchy, or the folder of v1's hierarchies).
inline constexpr char kDefaultCgroupRoot[] = "/sys/fs/cgroup";

// Container logs (docs/logs.md): <root>/<ns>/<name>.log, rotated past kDefaultLogMaxSize
// bytes with kDefaultLogMaxFiles rotated files kept; "block" is lossless back-pressure,
// "drop" drops past kDefaultLogRateLimit bytes/s.
inline constexpr char kDefaultLogRoot[] = "/var/log/contd";
// Where the .deb installs the log driver (the daemon passes the path of its own build).
inline constexpr char kDefaultLogShim[] = "/usr/libexec/contd/contd-shim-logs";
inline constexpr std::uint64_t kDefaultLogMaxSize = 10 * 1024 * 1024;
inline constexpr unsigned kDefaultLogMaxFiles = 3;
inline constexpr char kDefaultLogPolicy[] = "block";
inline constexpr std::uint64_t kDefaultLogRateLimit = 1024 * 1024;
// The logs of deleted containers are kept this long, and at most this much of them in all
// (docs/logs.md#retention).
inline constexpr std::chrono::milliseconds kDefaultLogRetention = std::chrono::hours(24);
inline constexpr std::uint64_t kDefaultLogRetentionSize = 512ull * 1024 * 1024;

}  // namespace contd::container
