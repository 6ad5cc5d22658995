#pragma once
// Checks a ContainerSpec completely before anything is created for it, so Run either
// starts with input known to be good or touches nothing. Reads the filesystem (rootfs,
// mount sources, netns files) but changes nothing. Any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/container/defaults.h"
#include "modules/container/netns_check.h"
#include "modules/container/user_lookup.h"

namespace contd::container {

// Where the checks look on the host.
struct ValidationEnv {
  std::filesystem::path netns_dir = kDefaultNetnsDir;  // bare network namespace names live here
  // Whether the netns file may be joined (the kernel's answer; unit tests give their own).
  NetnsCheck check_netns = checkJoinableNetns;
  // The node's allow-list (contd's config): host folders a container may see, and whether
  // it may be elevated.
  std::vector<std::filesystem::path> mount_sources;  // empty: any
  bool allow_elevated = true;
};

inline constexpr std::uint32_t kMaxCpu = 1024;
inline constexpr std::uint64_t kMinMemoryBytes = 4ULL << 20;  // 4 MiB
inline constexpr std::size_t kMaxHostnameLength = 64;         // the kernel's HOST_NAME_MAX
inline constexpr std::size_t kMaxTagLength = 256;
inline constexpr std::size_t kMaxTags = 64;
// The longest argument or environment string the kernel takes: MAX_ARG_STRLEN (32 pages)
// counts the terminating NUL, so a string of 32 * 4096 bytes already fails execve (E2BIG).
inline constexpr std::size_t kMaxArgStringBytes = 32 * 4096 - 1;
// The whole request as stored (toJson(spec) dumped). It bounds what one container costs in
// containerd's records and in every List and Inspect answer, and keeps argv and env
// together far below the kernel's ARG_MAX (2 MiB with the default 8 MiB stack).
inline constexpr std::size_t kMaxSpecBytes = 256 * 1024;
inline constexpr std::chrono::milliseconds kMaxShutdownTimeout = std::chrono::hours(1);
// A health check's bounds: each check is an exec through containerd's shim (a process and
// two fifos), so one a second per container is the most contd runs; a timeout below 100 ms
// would be spent starting the process.
inline constexpr std::chrono::milliseconds kMinHealthInterval{1000};
inline constexpr std::chrono::milliseconds kMinHealthTimeout{100};
inline constexpr std::chrono::milliseconds kMaxHealthDuration = std::chrono::hours(24);
// The words ContainerSpec::seccomp takes besides a path.
inline constexpr std::string_view kSeccompDefault = "default";
inline constexpr std::string_view kSeccompUnconfined = "unconfined";

// A Run request that passed every check, with what the checks derived kept, so nothing
// after validation parses or resolves a field again. Only validateSpec makes one (tests
// may build one by hand to feed the spec builder).
struct ValidSpec {
  std::string ns;                     // the containerd namespace, a valid identifier
  ContainerSpec spec;                 // as checked (and as it will be stored): restart resolved
  std::vector<std::string> argv;      // the process arguments: spec.argv, else the split entrypoint
  std::filesystem::path netns_path;   // the netns file the container joins
  UserRequest user;                   // spec.user parsed
};

// `spec` for namespace `ns` checked completely; kInvalidArgument for the first bad field,
// the message starting with the field's name ("mounts[1].target: ...", "env[0]: ...").
// Fields, in order of checking:
//   namespace            containerd identifier rule (contd::validateName)
//   name                 containerd identifier rule (contd::validateName)
//   rootfs               absolute, an existing directory, not the host's "/" and not in
//                        /proc, /sys or /dev
//   argv / entrypoint    one of them non-empty (from an image: after its config is merged
//                        in); argv[0] non-empty; no NUL in argv; a non-empty entrypoint
//                        splits (splitCommandLine) even if argv wins; no argument over
//                        kMaxArgStringBytes; with a rootfs, the program (argv[0]) is found
//                        in it as execve would (findProgram, in_root.h), symlinks resolved
//                        inside it
//   env[i]               KEY=VALUE with a non-empty KEY, no NUL, at most kMaxArgStringBytes
//   working_dir          absolute when given
//   network_namespace    required; a bare name follows the identifier rule and
//                        <netns_dir>/<name> exists; an absolute path exists; any other
//                        path (relative with '/') is refused; the file is a network
//                        namespace that is neither the host's nor contd's own, and not
//                        under /proc (env.check_netns: checkJoinableNetns)
//   mounts[i].source     absolute and exists; with env.mount_sources, its canonical path lies
//                        under one of them (so does a directory rootfs's, field "rootfs")
//   mounts[i].target     absolute, normalised (no ".", "..", "//" or trailing '/'), not "/",
//                        and not the target of an earlier mount
//   cpu                  at most kMaxCpu
//   memory_bytes         0 (no limit) or between kMinMemoryBytes and INT64_MAX
//   pids_limit           -1 (unlimited), 0 (module default) or positive
//   hostname             empty (the name is used) or an RFC 1123 host name of at most 64 chars
//   tags                 at most kMaxTags; each non-empty, at most kMaxTagLength chars
//   rootfs_propagation   "", or the runtime-spec's private, slave, shared, unbindable, or
//                        runc's recursive rprivate, rslave, rshared, runbindable
//   shutdown_timeout     between 0 (module default) and kMaxShutdownTimeout
//   seccomp              "", "default", "unconfined", or an absolute path of an existing
//                        regular file (its content is checked by the spec builder, also
//                        before anything is created)
//   user                 "" or USER[:GROUP] (parseUser in user_lookup.h): at most one ':',
//                        no empty part, no whitespace or control characters, numeric parts
//                        within 32 bits, at most kMaxUserLength chars. Whether the names
//                        exist is only known at Run, from the container's /etc files
//   elevated             only when env.allow_elevated
//   restart_max          only with restart on-failure
//   auto_remove          only with restart no (or unset, which then means no)
//   health.argv          with health: required, argv[0] non-empty, no NUL, no argument over
//                        kMaxArgStringBytes; with a rootfs, argv[0] found in it as for argv
//   health.interval_ms   0 (kDefaultHealthInterval) or kMinHealthInterval..kMaxHealthDuration
//   health.timeout_ms    0 (kDefaultHealthTimeout) or kMinHealthTimeout..kMaxHealthDuration
//   health.retries       0 (kDefaultHealthRetries) or more
//   health.start_period_ms  at most kMaxHealthDuration
//                        (the stored spec has the defaults filled in)
//   spec                 the whole request at most kMaxSpecBytes
Result<ValidSpec> validateSpec(std::string_view ns, const ContainerSpec& spec,
                               const ValidationEnv& env);

// The cgroup limits of `spec` alone (cpu, memory_bytes, pids_limit), by validateSpec's rules
// and with its errors; Update checks a changed limit with it.
Status validateLimits(const ContainerSpec& spec);

// An Exec's command line: argv[0] non-empty, no NUL, no argument over kMaxArgStringBytes.
// Errors (kInvalidArgument) name "argv" or "argv[i]".
Status validateExecArgv(const std::vector<std::string>& argv);

// The fields Run can check before an image's config is merged in: the namespace, `name`,
// and `image` (no NUL, not given with rootfs). Errors as validateSpec's.
Status validateImageRequest(std::string_view ns, const ContainerSpec& spec);

}  // namespace contd::container
