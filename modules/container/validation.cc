#include "modules/container/validation.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <set>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "modules/common/names.h"
#include "modules/common/printable.h"
#include "modules/common/record_schema.h"
#include "modules/container/command_line.h"
#include "modules/container/in_root.h"
#include "modules/container/user_lookup.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

Error fieldError(std::string_view field, std::string what) {
  return invalidArgument(std::string(field) + ": " + what);
}


std::string indexed(std::string_view field, std::size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

bool hasNul(std::string_view value) { return value.find('\0') != std::string_view::npos; }

// The kernel would cut a path or argument at the NUL, so what runs would differ from what
// was asked for (and what Inspect shows).
Status noNul(std::string_view field, std::string_view value) {
  if (hasNul(value)) {
    return fieldError(field, "contains a NUL byte");
  }
  return okStatus();
}

// Distinguishes "missing" from "unreadable" so the message says which: a permission or
// I/O problem on the host should not be reported as a typo in the request.
Result<fs::file_type> fileType(std::string_view field, const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return fieldError(field, inQuotes(path.native()) + " does not exist");
  }
  if (ec) {
    return fieldError(field, "stat " + inQuotes(path.native()) + ": " + ec.message());
  }
  return status.type();
}

Result<fs::file_type> existingAbsolute(std::string_view field, std::string_view value) {
  CONTD_RETURN_IF_ERROR(noNul(field, value));
  if (value.empty()) {
    return fieldError(field, "required");
  }
  if (value.front() != '/') {
    return fieldError(field, "must be an absolute path, got " + inQuotes(value));
  }
  return fileType(field, fs::path(value));
}

Status checkRootfs(std::string_view rootfs) {
  auto type = existingAbsolute("rootfs", rootfs);
  if (!type) {
    return type.error();
  }
  if (*type != fs::file_type::directory) {
    return fieldError("rootfs", inQuotes(rootfs) + " is not a directory");
  }
  // Canonical, so "/.", "//" or a symlink to "/" cannot hand the host's root to runc.
  std::error_code ec;
  const fs::path canonical = fs::canonical(fs::path(rootfs), ec);
  if (ec) {
    return fieldError("rootfs", "resolve " + inQuotes(rootfs) + ": " + ec.message());
  }
  if (canonical == fs::path("/")) {
    return fieldError("rootfs", "must not be the host's root directory");
  }
  for (std::string_view kernel : {"/proc", "/sys", "/dev"}) {
    const std::string& path = canonical.native();
    if (path == kernel || (path.rfind(kernel, 0) == 0 && path[kernel.size()] == '/')) {
      return fieldError("rootfs", inQuotes(rootfs) + " is in the host's " + std::string(kernel));
    }
  }
  return okStatus();
}

Status checkArgSize(std::string_view field, std::string_view value) {
  if (value.size() > kMaxArgStringBytes) {
    return fieldError(field, std::to_string(value.size()) + " bytes, more than the " +
                                 std::to_string(kMaxArgStringBytes) +
                                 " the kernel takes for one argument or variable");
  }
  return okStatus();
}

// The PATH the process will see: the last PATH= the caller gives, else the default.
std::string_view pathOf(const std::vector<std::string>& env) {
  std::string_view path = std::string_view(kDefaultPathEnv).substr(5);
  for (const auto& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) {
      path = std::string_view(entry).substr(5);
    }
  }
  return path;
}

// A directory rootfs must hold the program, or runc fails at start with an opaque error
// (and the restart policy would loop on it). `field` names where `program` came from.
Status checkProgram(const ContainerSpec& spec, std::string_view field, const std::string& program) {
  auto found = findProgram(spec.rootfs, program, spec.working_dir, pathOf(spec.env));
  if (!found) {
    return found.error().wrap(std::string(field));
  }
  if (!*found) {
    return fieldError(field, "no executable " + inQuotes(program) + " in rootfs " +
                                 inQuotes(spec.rootfs) +
                                 (program.find('/') == std::string::npos
                                      ? " (looked in PATH " + inQuotes(pathOf(spec.env)) + ")"
                                      : std::string()));
  }
  return okStatus();
}

// The process arguments: argv when given, else the entrypoint split like a shell.
Result<std::vector<std::string>> checkCommand(const ContainerSpec& spec) {
  if (spec.argv.empty() && spec.entrypoint.empty()) {
    return fieldError("entrypoint", "either entrypoint or argv is required");
  }
  for (std::size_t i = 0; i < spec.argv.size(); ++i) {
    CONTD_RETURN_IF_ERROR(noNul(indexed("argv", i), spec.argv[i]));
    CONTD_RETURN_IF_ERROR(checkArgSize(indexed("argv", i), spec.argv[i]));
  }
  if (!spec.argv.empty() && spec.argv.front().empty()) {
    return fieldError("argv[0]", "must not be empty");
  }
  // Checked even when argv wins: the entrypoint is stored and shown back by Inspect.
  std::vector<std::string> words;
  if (!spec.entrypoint.empty()) {
    CONTD_RETURN_IF_ERROR(noNul("entrypoint", spec.entrypoint));
    auto split = splitCommandLine(spec.entrypoint);
    if (!split) {
      return split.error();
    }
    if (split->front().empty()) {
      return fieldError("entrypoint", "the command (first word) is empty");
    }
    for (const auto& word : *split) {
      CONTD_RETURN_IF_ERROR(checkArgSize("entrypoint", word));
    }
    words = std::move(split).value();
  }
  return spec.argv.empty() ? words : spec.argv;
}

Status checkEnv(const std::vector<std::string>& env) {
  for (std::size_t i = 0; i < env.size(); ++i) {
    const std::string field = indexed("env", i);
    CONTD_RETURN_IF_ERROR(noNul(field, env[i]));
    CONTD_RETURN_IF_ERROR(checkArgSize(field, env[i]));
    const std::size_t equals = env[i].find('=');
    if (equals == std::string::npos) {
      return fieldError(field, "expected KEY=VALUE, got " + inQuotes(env[i]));
    }
    if (equals == 0) {
      return fieldError(field, "empty variable name in " + inQuotes(env[i]));
    }
  }
  return okStatus();
}

// The netns file: network_namespace itself when absolute, else <netns_dir>/<name>.
Result<fs::path> checkNetworkNamespace(std::string_view netns, const ValidationEnv& env) {
  constexpr std::string_view kField = "network_namespace";
  if (netns.empty()) {
    return fieldError(kField, "required: a container without a network namespace is refused");
  }
  CONTD_RETURN_IF_ERROR(noNul(kField, netns));
  if (netns.front() == '/') {
    auto type = existingAbsolute(kField, netns);
    if (!type) {
      return type.error();
    }
    if (env.check_netns) {
      CONTD_RETURN_IF_ERROR(env.check_netns(kField, netns));
    }
    return fs::path(netns);
  }
  if (netns.find('/') != std::string_view::npos) {
    return fieldError(kField, "expected a name or an absolute path, got " + inQuotes(netns));
  }
  CONTD_RETURN_IF_ERROR(validateName(kField, netns));
  fs::path path = env.netns_dir / std::string(netns);
  auto type = fileType(kField, path);
  if (!type) {
    return type.error();
  }
  if (env.check_netns) {
    CONTD_RETURN_IF_ERROR(env.check_netns(kField, path));
  }
  return path;
}

// A target runc would resolve to something else than it reads ("/a/../etc") would let a
// mount land where validation did not look; doubled and trailing slashes are refused too,
// so one place has exactly one spelling (duplicates are then a string comparison).
bool isNormalAbsolute(std::string_view path) {
  if (path == "/") {
    return true;
  }
  if (path.empty() || path.front() != '/') {
    return false;
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    const std::string_view component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") {
      return false;
    }
    start = end + 1;
  }
  return true;
}

// With an allow-list, the host path `path` (existing) resolves under one of its folders.
Status checkAllowed(std::string_view field, std::string_view path, const ValidationEnv& env) {
  if (env.mount_sources.empty()) {
    return okStatus();
  }
  std::error_code ec;
  const fs::path canonical = fs::canonical(fs::path(path), ec);
  if (ec) {
    return fieldError(field, "resolve " + inQuotes(path) + ": " + ec.message());
  }
  for (const auto& allowed : env.mount_sources) {
    fs::path base = fs::weakly_canonical(allowed, ec);
    if (ec) {
      continue;
    }
    if (base.filename().empty() && base != base.root_path()) {
      base = base.parent_path();  // "/srv/data/" is "/srv/data"
    }
    const auto [end, rest] = std::mismatch(base.begin(), base.end(), canonical.begin(),
                                           canonical.end());
    if (end == base.end()) {
      return okStatus();
    }
  }
  return fieldError(field, inQuotes(path) +
                               " is outside the host folders this node allows (mount_sources "
                               "in contd's config)");
}

Status checkMounts(const std::vector<MountSpec>& mounts, const ValidationEnv& env) {
  std::set<std::string_view> targets;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    const std::string field = indexed("mounts", i);
    CONTD_RETURN_IF_ERROR(existingAbsolute(field + ".source", mounts[i].source));
    CONTD_RETURN_IF_ERROR(checkAllowed(field + ".source", mounts[i].source, env));
    const std::string& target = mounts[i].target;
    CONTD_RETURN_IF_ERROR(noNul(field + ".target", target));
    if (target == "/") {
      return fieldError(field + ".target", "must not be the container's root");
    }
    if (!isNormalAbsolute(target)) {
      return fieldError(field + ".target",
                        "must be a normalised absolute path, got " + inQuotes(target));
    }
    if (!targets.insert(target).second) {
      return fieldError(field + ".target", inQuotes(target) + " is already a mount target");
    }
  }
  return okStatus();
}

bool isLabelChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; }

// RFC 1123 host name: dot-separated labels of 1-63 letters, digits and hyphens, no label
// starting or ending with a hyphen.
Status checkHostname(std::string_view hostname) {
  if (hostname.empty()) {
    return okStatus();
  }
  if (hostname.size() > kMaxHostnameLength) {
    return fieldError("hostname",
                      "longer than " + std::to_string(kMaxHostnameLength) + " characters");
  }
  std::size_t start = 0;
  while (start <= hostname.size()) {
    std::size_t end = hostname.find('.', start);
    if (end == std::string_view::npos) {
      end = hostname.size();
    }
    const std::string_view label = hostname.substr(start, end - start);
    bool good = !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-';
    for (char c : label) {
      good = good && isLabelChar(c);
    }
    if (!good) {
      return fieldError("hostname", "must be an RFC 1123 host name, got " + inQuotes(hostname));
    }
    start = end + 1;
  }
  return okStatus();
}

}  // namespace

Status validateLimits(const ContainerSpec& spec) {
  if (spec.cpu > kMaxCpu) {
    return fieldError("cpu",
                      "at most " + std::to_string(kMaxCpu) + ", got " + std::to_string(spec.cpu));
  }
  // runc cannot run anything in a few hundred KiB, and the OCI field is a signed 64-bit.
  constexpr auto kMaxMemory = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (spec.memory_bytes != 0 &&
      (spec.memory_bytes < kMinMemoryBytes || spec.memory_bytes > kMaxMemory)) {
    return fieldError("memory_bytes", "0 (no limit) or between " + std::to_string(kMinMemoryBytes) +
                                          " and " + std::to_string(kMaxMemory) + ", got " +
                                          std::to_string(spec.memory_bytes));
  }
  if (spec.pids_limit < -1) {
    return fieldError("pids_limit", "-1 (unlimited), 0 (default) or positive, got " +
                                        std::to_string(spec.pids_limit));
  }
  return okStatus();
}

namespace {

Status checkTags(const std::vector<std::string>& tags) {
  if (tags.size() > kMaxTags) {
    return fieldError("tags", "at most " + std::to_string(kMaxTags) + ", got " +
                                  std::to_string(tags.size()));
  }
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (tags[i].empty()) {
      return fieldError(indexed("tags", i), "must not be empty");
    }
    if (tags[i].size() > kMaxTagLength) {
      return fieldError(indexed("tags", i),
                        "longer than " + std::to_string(kMaxTagLength) + " characters");
    }
  }
  return okStatus();
}

// The runtime-spec's values, and runc's recursive forms of them (an extension runc and
// crun both take).
Status checkPropagation(std::string_view propagation) {
  constexpr std::array<std::string_view, 9> kAllowed = {
      "",       "private",  "rprivate", "slave",      "rslave",
      "shared", "rshared",  "unbindable", "runbindable"};
  for (std::string_view allowed : kAllowed) {
    if (propagation == allowed) {
      return okStatus();
    }
  }
  return fieldError("rootfs_propagation",
                    "one of private, slave, shared, unbindable (or runc's rprivate, rslave, "
                    "rshared, runbindable), got " +
                        inQuotes(propagation));
}

Status checkShutdownTimeout(std::chrono::milliseconds timeout) {
  if (timeout.count() < 0 || timeout > kMaxShutdownTimeout) {
    return fieldError("shutdown_timeout", "between 0 and " +
                                              std::to_string(kMaxShutdownTimeout.count()) +
                                              " ms, got " + std::to_string(timeout.count()));
  }
  return okStatus();
}

Status checkSeccomp(std::string_view seccomp) {
  constexpr std::string_view kField = "seccomp";
  if (seccomp.empty() || seccomp == kSeccompDefault || seccomp == kSeccompUnconfined) {
    return okStatus();
  }
  if (seccomp.front() != '/') {
    return fieldError(kField, "'default', 'unconfined' or the absolute path of a profile, got " +
                                  inQuotes(seccomp));
  }
  auto type = existingAbsolute(kField, seccomp);
  if (!type) {
    return type.error();
  }
  if (*type != fs::file_type::regular) {
    return fieldError(kField, inQuotes(seccomp) + " is not a regular file");
  }
  return okStatus();
}

// A command line run in the container (an Exec's, a health check's): it names a program,
// and the kernel takes every argument as given.
Status checkArgv(std::string_view field, const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty()) {
    return fieldError(field, "must name a program");
  }
  for (std::size_t i = 0; i < argv.size(); ++i) {
    CONTD_RETURN_IF_ERROR(noNul(indexed(field, i), argv[i]));
    CONTD_RETURN_IF_ERROR(checkArgSize(indexed(field, i), argv[i]));
  }
  return okStatus();
}

// A health check's duration: 0 is `fallback`, anything else within [min, max].
Result<std::chrono::milliseconds> checkHealthDuration(std::string_view field,
                                                      std::chrono::milliseconds value,
                                                      std::chrono::milliseconds min,
                                                      std::chrono::milliseconds fallback) {
  if (value.count() == 0) {
    return fallback;
  }
  if (value < min || value > kMaxHealthDuration) {
    return fieldError(field, "0 (" + std::to_string(fallback.count()) + ") or between " +
                                 std::to_string(min.count()) + " and " +
                                 std::to_string(kMaxHealthDuration.count()) + " ms, got " +
                                 std::to_string(value.count()));
  }
  return value;
}

// The health check the container gets, defaults filled in; none when it asks for none.
Result<std::optional<HealthCheckSpec>> checkHealth(const ContainerSpec& spec) {
  if (!spec.health) {
    return std::optional<HealthCheckSpec>();
  }
  HealthCheckSpec health = *spec.health;
  CONTD_RETURN_IF_ERROR(checkArgv("health.argv", health.argv));
  if (spec.image.empty()) {
    CONTD_RETURN_IF_ERROR(checkProgram(spec, "health.argv[0]", health.argv.front()));
  }
  auto interval = checkHealthDuration("health.interval_ms", health.interval, kMinHealthInterval,
                                      kDefaultHealthInterval);
  auto timeout = checkHealthDuration("health.timeout_ms", health.timeout, kMinHealthTimeout,
                                     kDefaultHealthTimeout);
  for (const auto* checked : {&interval, &timeout}) {
    if (!*checked) {
      return checked->error();
    }
  }
  if (health.start_period > kMaxHealthDuration || health.start_period.count() < 0) {
    return fieldError("health.start_period_ms",
                      "at most " + std::to_string(kMaxHealthDuration.count()) + " ms, got " +
                          std::to_string(health.start_period.count()));
  }
  health.interval = *interval;
  health.timeout = *timeout;
  if (health.retries == 0) {
    health.retries = kDefaultHealthRetries;
  }
  return std::optional<HealthCheckSpec>(std::move(health));
}

// The restart mode the container gets: kDefault resolved (container_spec.h).
Result<RestartMode> checkRestart(const ContainerSpec& spec) {
  RestartMode mode = spec.restart;
  if (mode == RestartMode::kDefault) {
    mode = spec.auto_remove ? RestartMode::kNo : RestartMode::kAlways;
  }
  if (spec.restart_max > 0 && mode != RestartMode::kOnFailure) {
    return fieldError("restart_max", "only with restart \"on-failure\", not \"" +
                                         std::string(restartModeName(mode)) + "\"");
  }
  if (spec.auto_remove && mode != RestartMode::kNo) {
    return fieldError("auto_remove", "removes the container when its process ends: only with "
                                     "restart \"no\", not \"" +
                                         std::string(restartModeName(mode)) + "\"");
  }
  return mode;
}

}  // namespace

Status validateExecArgv(const std::vector<std::string>& argv) {
  return checkArgv("argv", argv);
}

Status validateImageRequest(std::string_view ns, const ContainerSpec& spec) {
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  CONTD_RETURN_IF_ERROR(validateName("name", spec.name));
  if (spec.name == kKeeperId) {
    return fieldError("name", "'" + spec.name + "' is reserved for contd's shim keeper");
  }
  if (!spec.image.empty()) {
    if (!spec.rootfs.empty()) {
      return fieldError("image", "give either rootfs or image, not both");
    }
    CONTD_RETURN_IF_ERROR(noNul("image", spec.image));
  }
  return okStatus();
}

Result<ValidSpec> validateSpec(std::string_view ns, const ContainerSpec& spec,
                               const ValidationEnv& env) {
  CONTD_RETURN_IF_ERROR(validateImageRequest(ns, spec));
  if (spec.image.empty()) {
    CONTD_RETURN_IF_ERROR(checkRootfs(spec.rootfs));
    CONTD_RETURN_IF_ERROR(checkAllowed("rootfs", spec.rootfs, env));
  }
  auto argv = checkCommand(spec);
  if (!argv) {
    return argv.error();
  }
  CONTD_RETURN_IF_ERROR(checkEnv(spec.env));
  CONTD_RETURN_IF_ERROR(noNul("working_dir", spec.working_dir));
  if (!spec.working_dir.empty() && spec.working_dir.front() != '/') {
    return fieldError("working_dir", "must be an absolute path, got " + inQuotes(spec.working_dir));
  }
  if (spec.image.empty()) {
    CONTD_RETURN_IF_ERROR(
        checkProgram(spec, spec.argv.empty() ? "entrypoint" : "argv[0]", argv->front()));
  }
  auto netns_path = checkNetworkNamespace(spec.network_namespace, env);
  if (!netns_path) {
    return netns_path.error();
  }
  CONTD_RETURN_IF_ERROR(checkMounts(spec.mounts, env));
  if (spec.elevated && !env.allow_elevated) {
    return fieldError("elevated", "not allowed on this node (allow_elevated is false in contd's "
                                  "config)");
  }
  CONTD_RETURN_IF_ERROR(validateLimits(spec));
  CONTD_RETURN_IF_ERROR(checkHostname(spec.hostname));
  CONTD_RETURN_IF_ERROR(checkTags(spec.tags));
  CONTD_RETURN_IF_ERROR(checkPropagation(spec.rootfs_propagation));
  CONTD_RETURN_IF_ERROR(checkShutdownTimeout(spec.shutdown_timeout));
  CONTD_RETURN_IF_ERROR(checkSeccomp(spec.seccomp));
  auto user = parseUser(spec.user);
  if (!user) {
    return user.error();
  }
  auto restart = checkRestart(spec);
  if (!restart) {
    return restart.error();
  }
  auto health = checkHealth(spec);
  if (!health) {
    return health.error();
  }
  if (const std::size_t size = toJson(spec).dump().size(); size > kMaxSpecBytes) {
    return fieldError("spec", std::to_string(size) + " bytes as stored, more than " +
                                  std::to_string(kMaxSpecBytes));
  }
  ContainerSpec stored = spec;
  stored.restart = *restart;
  stored.health = std::move(health).value();
  return ValidSpec{.ns = std::string(ns),
                   .spec = std::move(stored),
                   .argv = std::move(argv).value(),
                   .netns_path = std::move(netns_path).value(),
                   .user = std::move(user).value()};
}

}  // namespace contd::container
