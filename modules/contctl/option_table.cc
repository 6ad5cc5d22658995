#include "modules/contctl/option_table.h"

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "modules/common/byte_size.h"
#include "modules/container/command_line.h"
#include "modules/contctl/time_args.h"

namespace contd::contctl {
namespace {

// ---- Value parsers. Messages name the option and quote the value.

Error badValue(std::string_view option, std::string_view value, std::string_view expected) {
  return invalidArgument(std::string(option) + " '" + std::string(value) + "': expected " +
                         std::string(expected));
}

template <typename T>
Result<T> parseNumber(std::string_view option, std::string_view value) {
  T number{};
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, number);
  if (value.empty() || ec != std::errc() || ptr != end) {
    return badValue(option, value, "a whole number");
  }
  return number;
}

// BYTES, or a number with a binary suffix: 512K, 64M, 2G, 1T (the daemon's size keys read
// sizes with the same parser).
Result<std::uint64_t> parseBytes(std::string_view option, std::string_view value) {
  auto bytes = parseByteSize(value);
  if (!bytes) {
    return invalidArgument(std::string(option) + " '" + std::string(value) +
                           "': " + bytes.error().message);
  }
  return bytes;
}

// ---- Appliers: what an option does to the Invocation. `option` is its name, for errors.

using Spec = v1::ContainerSpec;

template <std::string* (Spec::*Field)()>  // mutable_x() for a string, add_x() for a list
Status setText(std::string_view /*option*/, std::string_view value, Invocation& inv) {
  *(inv.spec.*Field)() = value;
  return okStatus();
}

template <typename T, void (Spec::*Set)(T)>
Status setNumber(std::string_view option, std::string_view value, Invocation& inv) {
  auto number = parseNumber<T>(option, value);
  if (!number) {
    return number.error();
  }
  (inv.spec.*Set)(*number);
  return okStatus();
}

template <void (Spec::*Set)(bool)>
Status setSwitch(std::string_view, std::string_view, Invocation& inv) {
  (inv.spec.*Set)(true);
  return okStatus();
}

// --memory, --cpu, --pids: the limits of run's spec, and those update sends (where a limit
// not given stays as it is, so only the given ones are set).
Status setMemory(std::string_view option, std::string_view value, Invocation& inv) {
  auto bytes = parseBytes(option, value);
  if (!bytes) {
    return bytes.error();
  }
  inv.spec.set_memory_bytes(*bytes);
  inv.limits.set_memory_bytes(*bytes);
  return okStatus();
}

template <typename T, void (Spec::*SetSpec)(T), void (v1::UpdateRequest::*SetLimit)(T)>
Status setLimit(std::string_view option, std::string_view value, Invocation& inv) {
  auto number = parseNumber<T>(option, value);
  if (!number) {
    return number.error();
  }
  (inv.spec.*SetSpec)(*number);
  (inv.limits.*SetLimit)(*number);
  return okStatus();
}

Status addEnv(std::string_view option, std::string_view value, Invocation& inv) {
  const auto eq = value.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return badValue(option, value, "KEY=VALUE");
  }
  inv.spec.add_env(std::string(value));
  return okStatus();
}

// SRC:DST, SRC:DST:ro or SRC:DST:rw.
Status addMount(std::string_view option, std::string_view value, Invocation& inv) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto colon = value.find(':', start);
    parts.push_back(value.substr(start, colon - start));
    if (colon == std::string_view::npos) {
      break;
    }
    start = colon + 1;
  }
  const bool mode_ok =
      parts.size() == 2 || (parts.size() == 3 && (parts[2] == "ro" || parts[2] == "rw"));
  if (!mode_ok || parts[0].empty() || parts[1].empty()) {
    return badValue(option, value, "SRC:DST[:ro]");
  }
  auto* mount = inv.spec.add_mounts();
  mount->set_source(std::string(parts[0]));
  mount->set_target(std::string(parts[1]));
  mount->set_readonly(parts.size() == 3 && parts[2] == "ro");
  return okStatus();
}

Status setSocket(std::string_view, std::string_view value, Invocation& inv) {
  inv.socket = value;
  return okStatus();
}

Status setJson(std::string_view, std::string_view, Invocation& inv) {
  inv.json = true;
  return okStatus();
}

Status setImageName(std::string_view, std::string_view value, Invocation& inv) {
  inv.image_name = value;
  return okStatus();
}

// USER or USER:PASSWORD (split at the first ':').
Status setCreds(std::string_view option, std::string_view value, Invocation& inv) {
  const auto colon = value.find(':');
  inv.username = value.substr(0, colon);
  if (inv.username.empty()) {
    return badValue(option, value.substr(0, colon), "USER or USER:PASSWORD");
  }
  if (colon != std::string_view::npos) {
    inv.password = value.substr(colon + 1);
  }
  return okStatus();
}

Status setPasswordStdin(std::string_view, std::string_view, Invocation& inv) {
  inv.password_stdin = true;
  return okStatus();
}

Status setPlainHttp(std::string_view, std::string_view, Invocation& inv) {
  inv.plain_http = true;
  return okStatus();
}

Status setNamespace(std::string_view, std::string_view value, Invocation& inv) {
  inv.ns = value;
  return okStatus();
}

Status setTimeout(std::string_view option, std::string_view value, Invocation& inv) {
  auto ms = parseNumber<std::uint64_t>(option, value);
  if (!ms || *ms == 0) {
    return badValue(option, value, "milliseconds, greater than 0");
  }
  inv.timeout_ms = *ms;
  return okStatus();
}

Status setInteractive(std::string_view, std::string_view, Invocation& inv) {
  inv.interactive = true;
  return okStatus();
}

Status setTty(std::string_view, std::string_view, Invocation& inv) {
  inv.tty = true;
  return okStatus();
}

Status setFollow(std::string_view, std::string_view, Invocation& inv) {
  inv.follow = true;
  return okStatus();
}

Status setTail(std::string_view option, std::string_view value, Invocation& inv) {
  auto n = parseNumber<std::uint32_t>(option, value);
  if (!n) {
    return n.error();
  }
  inv.tail = *n;
  inv.tail_given = true;
  return okStatus();
}

// A duration: whole numbers with units, h, m, s, ms ("500ms", "30s", "1h30m").
Result<std::chrono::milliseconds> parseDuration(std::string_view option, std::string_view value) {
  if (auto duration = parseDurationText(value)) {
    return *duration;
  }
  return badValue(option, value, "a duration such as 500ms, 30s, 10m or 1h30m");
}

// --since, --until: an RFC 3339 time, a date (midnight UTC) or an age such as 10m, 1h30m.
template <std::int64_t Invocation::*Field>
Status setTime(std::string_view option, std::string_view value, Invocation& inv) {
  auto at = parseTimeArg(value, std::chrono::system_clock::now());
  if (!at) {
    return badValue(option, value,
                    "a time such as 2026-11-22T09:46:47Z, a date such as 2026-11-22 or an age "
                    "such as 10m or 1h30m");
  }
  inv.*Field = *at;
  return okStatus();
}

Status setTimestamps(std::string_view, std::string_view, Invocation& inv) {
  inv.timestamps = true;
  return okStatus();
}

Status setPrevious(std::string_view, std::string_view, Invocation& inv) {
  inv.previous = true;
  return okStatus();
}

// run --health-cmd: one string split like an entrypoint (quotes and backslashes, no shell).
Status setHealthCmd(std::string_view option, std::string_view value, Invocation& inv) {
  auto words = container::splitCommandLine(value);
  if (!words || words->front().empty()) {
    return badValue(option, value, "a command such as \"/bin/sh -c 'test -f /ok'\"");
  }
  auto* health = inv.spec.mutable_health();
  health->clear_argv();
  for (auto& word : *words) {
    health->add_argv(std::move(word));
  }
  return okStatus();
}

// run --health-interval, --health-timeout, --health-start-period: durations.
template <void (v1::HealthCheck::*Set)(std::uint64_t)>
Status setHealthDuration(std::string_view option, std::string_view value, Invocation& inv) {
  auto duration = parseDuration(option, value);
  if (!duration) {
    return duration.error();
  }
  (inv.spec.mutable_health()->*Set)(static_cast<std::uint64_t>(duration->count()));
  return okStatus();
}

Status setHealthRetries(std::string_view option, std::string_view value, Invocation& inv) {
  auto retries = parseNumber<std::uint32_t>(option, value);
  if (!retries) {
    return retries.error();
  }
  inv.spec.mutable_health()->set_retries(*retries);
  return okStatus();
}

// stop/restart -t: whole seconds, as podman takes them.
Status setStopTime(std::string_view option, std::string_view value, Invocation& inv) {
  auto seconds = parseNumber<std::uint32_t>(option, value);
  if (!seconds || *seconds > 3600) {
    return badValue(option, value, "seconds, 0 to 3600");
  }
  // 0 s is "SIGKILL at once": the API reads 0 ms as the container's own timeout.
  inv.stop_timeout_ms = *seconds == 0 ? 1 : static_cast<std::uint64_t>(*seconds) * 1000;
  return okStatus();
}

// kill -s: a number, or a name with or without SIG (TERM, SIGKILL, hup).
Status setSignal(std::string_view option, std::string_view value, Invocation& inv) {
  static constexpr std::pair<std::string_view, int> kNames[] = {
      {"HUP", 1},   {"INT", 2},   {"QUIT", 3},  {"KILL", 9},   {"USR1", 10},
      {"USR2", 12}, {"PIPE", 13}, {"ALRM", 14}, {"TERM", 15},  {"CONT", 18},
      {"STOP", 19}, {"TSTP", 20}, {"WINCH", 28}};
  if (auto number = parseNumber<int>(option, value); number && *number >= 1 && *number <= 64) {
    inv.signal = *number;
    return okStatus();
  }
  std::string name(value);
  for (auto& c : name) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const std::string_view bare = std::string_view(name).starts_with("SIG")
                                    ? std::string_view(name).substr(3)
                                    : std::string_view(name);
  for (const auto& [known, number] : kNames) {
    if (bare == known) {
      inv.signal = number;
      return okStatus();
    }
  }
  return badValue(option, value, "a signal number 1-64 or a name such as TERM, KILL, HUP");
}

// run --restart: no, always, on-failure or on-failure:N.
Status setRestart(std::string_view option, std::string_view value, Invocation& inv) {
  auto* restart = inv.spec.mutable_restart();
  if (value == "no") {
    restart->set_mode(v1::RestartPolicy::NO);
  } else if (value == "always") {
    restart->set_mode(v1::RestartPolicy::ALWAYS);
  } else if (value == "on-failure") {
    restart->set_mode(v1::RestartPolicy::ON_FAILURE);
  } else if (value.starts_with("on-failure:")) {
    auto max = parseNumber<std::uint32_t>(option, value.substr(11));
    if (!max || *max == 0) {
      return badValue(option, value, "no, always, on-failure or on-failure:N (N > 0)");
    }
    restart->set_mode(v1::RestartPolicy::ON_FAILURE);
    restart->set_max_retries(*max);
  } else {
    return badValue(option, value, "no, always, on-failure or on-failure:N");
  }
  return okStatus();
}

Status setDetach(std::string_view, std::string_view, Invocation& inv) {
  inv.detach = true;
  return okStatus();
}

Status setDebug(std::string_view, std::string_view, Invocation& inv) {
  inv.debug = true;
  return okStatus();
}

Status setAll(std::string_view, std::string_view, Invocation& inv) {
  inv.all = true;
  return okStatus();
}

Status setQuiet(std::string_view, std::string_view, Invocation& inv) {
  inv.quiet = true;
  return okStatus();
}

Status setNoTrunc(std::string_view, std::string_view, Invocation& inv) {
  inv.no_trunc = true;
  return okStatus();
}

Status setFormat(std::string_view, std::string_view value, Invocation& inv) {
  inv.format = value;
  return okStatus();
}

Status addFilter(std::string_view, std::string_view value, Invocation& inv) {
  inv.filters.emplace_back(value);
  return okStatus();
}

// parseArgs recognises --help by name: it ends parsing as a request for help.
Status noEffect(std::string_view, std::string_view, Invocation&) { return okStatus(); }

// ---- The option table: every option once, with the commands that take it.

const std::array<OptionDef, 53> kOptions = {{
    {"--socket", "", "PATH", kAnyCommand,
     "contd's socket (default /run/contd/contd.sock, or $CONTD_SOCKET)", setSocket},
    {"--json", "", "", kAnyCommand, "print the API's answer as JSON instead of a table", setJson},
    {"--help", "-h", "", kAnyCommand, "show the help (of the command, after one)", noEffect},
    {"--version", "", "", kAnyCommand, "print contctl's version and exit", noEffect},
    {"--debug", "", "", kAnyCommand, "on an error, print its raw detail (gRPC code and text) too",
     setDebug},
    {"--namespace", "-n", "NS", kLs | kEvents | kImages, "only containers (images) of namespace NS",
     setNamespace},
    {"--all", "-a", "", kLs, "stopped, failed and unknown containers too", setAll},
    {"--quiet", "-q", "", kLs | kImages, "print the names only", setQuiet},
    {"--no-trunc", "", "", kLs | kImages, "do not cut the COMMAND (DIGEST) column", setNoTrunc},
    {"--filter", "", "KEY=VALUE", kLs,
     "status=, name=REGEX, label=K[=V], image=, namespace= (repeatable; keys ANDed)",
     addFilter},
    {"--format", "", "TEMPLATE", kLs | kInfo,
     "json, or a template: '{{.Name}} {{.Status}}', 'table {{.Name}}\\t{{.Image}}'",
     setFormat},
    {"--name", "", "NAME", kImport, "register the imported image as NAME", setImageName},
    {"--creds", "", "USER[:PASSWORD]", kPull, "registry credentials (Basic or token auth)",
     setCreds},
    {"--password-stdin", "", "", kPull, "read the registry password from stdin",
     setPasswordStdin},
    {"--plain-http", "", "", kPull, "talk http:// to the registry (one on loopback)",
     setPlainHttp},
    {"--timeout", "", "MS", kExec, "kill the command after MS milliseconds (default: no limit)",
     setTimeout},
    {"--interactive", "-i", "", kExec, "forward contctl's stdin to the command", setInteractive},
    {"--tty", "-t", "", kExec,
     "give the command a terminal (a shell wants --interactive too); stderr comes merged",
     setTty},
    {"--follow", "-f", "", kLogs, "keep printing new lines until interrupted", setFollow},
    {"--tail", "", "N", kLogs,
     "only the last N lines (0: no old line, only new ones when following)", setTail},
    {"--since", "", "T", kLogs,
     "only lines since T: 2026-11-22T09:46:47Z, 2026-11-22 (UTC), or an age like 1h30m",
     setTime<&Invocation::since>},
    {"--until", "", "T", kLogs, "only lines up to T (the same forms as since)",
     setTime<&Invocation::until>},
    {"--timestamps", "-t", "", kLogs, "start each line with its time (RFC 3339, UTC)",
     setTimestamps},
    {"--previous", "-p", "", kLogs,
     "the log of the last deleted container of the name, while log retention keeps it",
     setPrevious},
    {"--rootfs", "", "DIR", kRun,
     "root filesystem: an existing host directory (this or --image is required)",
     setText<&Spec::mutable_rootfs>},
    {"--image", "", "NAME", kRun,
     "run from an image imported into the namespace instead of --rootfs (docs/images.md)",
     setText<&Spec::mutable_image>},
    {"--netns", "", "NAME", kRun,
     "network namespace: a name in /var/run/netns or a path (required)",
     setText<&Spec::mutable_network_namespace>},
    {"--entrypoint", "", "CMD", kRun, "the command as one string instead of -- CMD...",
     setText<&Spec::mutable_entrypoint>},
    {"--env", "-e", "KEY=VALUE", kRun, "set an environment variable (repeatable)", addEnv},
    {"--mount", "-v", "SRC:DST[:ro]", kRun,
     "bind-mount a host path, read-only with :ro (repeatable)", addMount},
    {"--cpu", "", "N", kRun | kUpdate, "CPU count limit (0: none)",
     setLimit<std::uint32_t, &Spec::set_cpu, &v1::UpdateRequest::set_cpu>},
    {"--memory", "", "BYTES", kRun | kUpdate, "memory limit, e.g. 67108864, 512M, 2G (0: none)",
     setMemory},
    {"--pids", "", "N", kRun | kUpdate,
     "process count limit (-1: unlimited; 0 or, for run, unset: the daemon's default)",
     setLimit<std::int64_t, &Spec::set_pids_limit, &v1::UpdateRequest::set_pids_limit>},
    {"--workdir", "-w", "DIR", kRun, "working directory (default /)",
     setText<&Spec::mutable_working_dir>},
    {"--hostname", "", "NAME", kRun, "hostname (default: the container name)",
     setText<&Spec::mutable_hostname>},
    {"--tag", "", "TAG", kRun, "a free-form tag kept with the container (repeatable)",
     setText<&Spec::add_tags>},
    {"--elevated", "", "", kRun, "grant CAP_SYS_ADMIN and /dev/fuse",
     setSwitch<&Spec::set_elevated>},
    {"--interactive", "", "", kRun, "mark the container interactive (no terminal is allocated)",
     setSwitch<&Spec::set_interactive>},
    {"--rootfs-propagation", "", "MODE", kRun,
     "private, rprivate, slave, rslave, shared or rshared",
     setText<&Spec::mutable_rootfs_propagation>},
    {"--shutdown-timeout", "", "MS", kRun,
     "SIGTERM-to-SIGKILL delay of rm, in ms (default: the daemon's)",
     setNumber<std::uint64_t, &Spec::set_shutdown_timeout_ms>},
    {"--seccomp", "", "VALUE", kRun,
     "syscall filter: default, unconfined, or a profile path on the daemon's host",
     setText<&Spec::mutable_seccomp>},
    {"--readonly-rootfs", "", "", kRun, "mount the root filesystem read-only",
     setSwitch<&Spec::set_readonly_rootfs>},
    {"--user", "-u", "USER[:GROUP]", kRun,
     "run as this user and group, names or ids (default: the image's User, else root)",
     setText<&Spec::mutable_user>},
    {"--restart", "", "POLICY", kRun,
     "no, on-failure[:N] or always (default always, and no with --rm too)", setRestart},
    {"--rm", "", "", kRun,
     "remove the container when its process exits; runs in the foreground unless -d",
     setSwitch<&Spec::set_auto_remove>},
    {"--detach", "-d", "", kRun, "only with --rm, prints the name and returns once it started",
     setDetach},
    {"--health-cmd", "", "CMD", kRun,
     "health check command, one string split like --entrypoint (no shell)", setHealthCmd},
    {"--health-interval", "", "DUR", kRun,
     "time between health checks, e.g. 1s, 30s, 1m (default 30s)",
     setHealthDuration<&v1::HealthCheck::set_interval_ms>},
    {"--health-timeout", "", "DUR", kRun,
     "a health check running longer fails (default 30s)",
     setHealthDuration<&v1::HealthCheck::set_timeout_ms>},
    {"--health-retries", "", "N", kRun,
     "failed health checks in a row that make it unhealthy (0: the default, 3)",
     setHealthRetries},
    {"--health-start-period", "", "DUR", kRun,
     "failed health checks this soon after a start do not count (default 0s)",
     setHealthDuration<&v1::HealthCheck::set_start_period_ms>},
    {"--time", "-t", "SECONDS", kStop | kRestart,
     "SIGKILL after this many seconds (default: the container's shutdown timeout)", setStopTime},
    {"--signal", "-s", "SIGNAL", kKill, "the signal: a number or a name (default TERM)",
     setSignal},
}};

}  // namespace

std::span<const OptionDef> options() { return kOptions; }

const OptionDef* findOption(std::string_view name, unsigned command_bit) {
  const OptionDef* found = nullptr;
  for (const auto& option : kOptions) {
    if (option.name != name && (option.alias.empty() || option.alias != name)) {
      continue;
    }
    if ((option.commands & command_bit) != 0) {
      return &option;  // "-t" is --tty for exec, --time for stop
    }
    found = found != nullptr ? found : &option;
  }
  return found;
}

}  // namespace contd::contctl
