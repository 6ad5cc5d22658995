#include "modules/daemon/config.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "modules/common/byte_size.h"
#include "modules/common/logging.h"
#include "modules/common/printable.h"
#include "modules/metrics/http_listener.h"

namespace contd::daemon {
namespace {

using nlohmann::json;

// ---- Validators: one per kind of value, messages without the key (the caller adds it).

Status absolutePath(const std::string& value) {
  if (value.empty() || value.front() != '/') {
    return invalidArgument("must be an absolute path, got '" + value + "'");
  }
  return okStatus();
}

Status socketPath(const std::string& value) {
  CONTD_RETURN_IF_ERROR(absolutePath(value));
  // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
  if (value.size() > 107) {
    return invalidArgument("must be at most 107 bytes long (a unix socket path)");
  }
  return okStatus();
}

Status anyString(const std::string& /*value*/) { return okStatus(); }

Status optionalAbsolutePath(const std::string& value) {
  return value.empty() ? okStatus() : absolutePath(value);
}

Status seccompProfile(const std::string& value) {
  if (value == kSeccompBuiltin || value == kSeccompUnconfined) {
    return okStatus();
  }
  if (value.empty() || value.front() != '/') {
    return invalidArgument("must be \"builtin\", \"unconfined\" or an absolute path, got '" +
                           value + "'");
  }
  return okStatus();
}

Status runtimeName(const std::string& value) {
  if (value == "runc" || value == "crun" || (!value.empty() && value.front() == '/')) {
    return okStatus();
  }
  return invalidArgument("must be \"runc\", \"crun\" or an absolute path, got '" + value + "'");
}

Status shimGroup(const std::string& value) {
  if (value != "none" && value != "namespace") {
    return invalidArgument("must be \"none\" or \"namespace\", got '" + value + "'");
  }
  return okStatus();
}

Status logLevel(const std::string& value) {
  if (!log::isValidLevel(value)) {
    return invalidArgument("must be one of trace, debug, info, warn, error, critical, off; got '" +
                           value + "'");
  }
  return okStatus();
}

Status logFormat(const std::string& value) {
  if (value != "text" && value != "json") {
    return invalidArgument("must be text or json, got '" + value + "'");
  }
  return okStatus();
}

Status logPolicy(const std::string& value) {
  if (value != "block" && value != "drop") {
    return invalidArgument("must be block or drop, got '" + value + "'");
  }
  return okStatus();
}

Status positiveRate(std::uint64_t bytes_per_s) {
  if (bytes_per_s == 0 || bytes_per_s > std::uint64_t{std::numeric_limits<std::int64_t>::max()}) {
    return invalidArgument("must be greater than 0 (bytes per second)");
  }
  return okStatus();
}

Status anyDuration(std::uint64_t /*ms*/) { return okStatus(); }

Status anyCount(std::uint64_t /*n*/) { return okStatus(); }

// Retention times are added to wall-clock times: kept far from overflowing them.
Status retentionDuration(std::uint64_t ms) {
  constexpr std::uint64_t kMaxMs = 36500ull * 24 * 3600 * 1000;  // 100 years
  if (ms > kMaxMs) {
    return invalidArgument("must be at most " + std::to_string(kMaxMs) + " (100 years), got " +
                           std::to_string(ms));
  }
  return okStatus();
}

Status maxFiles(std::uint64_t n) {
  return n <= 1000 ? okStatus() : invalidArgument("must be at most 1000");
}

Status positiveDuration(std::uint64_t ms) {
  if (ms == 0) {
    return invalidArgument("must be greater than 0");
  }
  return okStatus();
}

// The exit history kept in containerd holds 10 exits: a limit above that could never trip.
Status restartFailures(std::uint64_t n) {
  if (n < 1 || n > 9) {
    return invalidArgument("must be between 1 and 9");
  }
  return okStatus();
}

// The zbus URL schemes zbus dials; the bridge parses the rest when it starts.
Status brokerUrl(const std::string& value) {
  if (!value.empty() && !value.starts_with("unix://") && !value.starts_with("tcp://")) {
    return invalidArgument("must be a zbus URL (unix:///path or tcp://host:port), got '" + value +
                           "'");
  }
  return okStatus();
}

Status parallelLayers(std::uint64_t value) {
  if (value == 0 || value > 16) {
    return invalidArgument("must be between 1 and 16, got " + std::to_string(value));
  }
  return okStatus();
}

Status workerCount(std::uint64_t value) {
  if (value == 0 || value > 64) {
    return invalidArgument("must be between 1 and 64, got " + std::to_string(value));
  }
  return okStatus();
}

Status metricsTextfile(const std::string& value) {
  if (value.empty()) {
    return okStatus();
  }
  CONTD_RETURN_IF_ERROR(absolutePath(value));
  // node-exporter's textfile collector reads only *.prom files.
  if (!value.ends_with(".prom") || value.ends_with("/.prom")) {
    return invalidArgument("must end in .prom (node-exporter's textfile collector reads only "
                           "those), got '" + value + "'");
  }
  return okStatus();
}

Status metricsListen(const std::string& value) {
  if (value.empty()) {
    return okStatus();
  }
  auto address = metrics::parseListenAddress(value);
  return address ? okStatus() : Status(address.error());
}

Status pidsLimit(std::int64_t value) {
  if (value == 0 || value < -1) {
    return invalidArgument("must be -1 (unlimited) or greater than 0, got " +
                           std::to_string(value));
  }
  return okStatus();
}

// ---- Typed setters: check the JSON type, validate, store.

template <auto Member, Status (*Check)(const std::string&)>
Status setString(const json& value, Config& config) {
  if (!value.is_string()) {
    return invalidArgument("expected string");
  }
  auto text = value.get<std::string>();
  CONTD_RETURN_IF_ERROR(Check(text));
  config.*Member = std::move(text);
  return okStatus();
}

template <auto Member, Status (*Check)(std::uint64_t)>
Status setUnsigned(const json& value, Config& config) {
  if (!value.is_number_unsigned()) {
    return invalidArgument("expected unsigned integer");
  }
  const auto number = value.get<std::uint64_t>();
  CONTD_RETURN_IF_ERROR(Check(number));
  config.*Member = number;
  return okStatus();
}

// A size: bytes as a number, or a string with a binary suffix ("64K", "512M", "1G"), read
// by the one parser contctl's --memory uses (modules/common/byte_size.h).
template <auto Member, Status (*Check)(std::uint64_t)>
Status setSize(const json& value, Config& config) {
  std::uint64_t bytes = 0;
  if (value.is_number_unsigned()) {
    bytes = value.get<std::uint64_t>();
  } else if (value.is_string()) {
    const auto text = value.get<std::string>();
    auto parsed = parseByteSize(text);
    if (!parsed) {
      return invalidArgument(parsed.error().message + ", got " + inQuotes(text));
    }
    bytes = *parsed;
  } else {
    return invalidArgument("expected a byte count: an unsigned integer or a string such as "
                           "\"512M\"");
  }
  CONTD_RETURN_IF_ERROR(Check(bytes));
  config.*Member = bytes;
  return okStatus();
}

template <auto Member, Status (*Check)(std::int64_t)>
Status setInteger(const json& value, Config& config) {
  // nlohmann keeps non-negative literals as unsigned: those above INT64_MAX do not fit.
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() &&
       value.get<std::uint64_t>() > std::uint64_t{std::numeric_limits<std::int64_t>::max()})) {
    return invalidArgument("expected integer");
  }
  const auto number = value.get<std::int64_t>();
  CONTD_RETURN_IF_ERROR(Check(number));
  config.*Member = number;
  return okStatus();
}

template <auto Member>
Status setBool(const json& value, Config& config) {
  if (!value.is_boolean()) {
    return invalidArgument("expected true or false");
  }
  config.*Member = value.get<bool>();
  return okStatus();
}

// A list of absolute paths, at most 64.
template <auto Member>
Status setPathList(const json& value, Config& config) {
  constexpr std::size_t kMaxEntries = 64;
  if (!value.is_array() || value.size() > kMaxEntries) {
    return invalidArgument("expected an array of at most " + std::to_string(kMaxEntries) +
                           " absolute paths");
  }
  std::vector<std::string> paths;
  for (const auto& entry : value) {
    if (!entry.is_string()) {
      return invalidArgument("expected an array of absolute paths");
    }
    CONTD_RETURN_IF_ERROR(absolutePath(entry.get<std::string>()));
    paths.push_back(entry.get<std::string>());
  }
  config.*Member = std::move(paths);
  return okStatus();
}

// A key's value as the file would give it.
template <auto Member>
json get(const Config& config) {
  return config.*Member;
}

// Every config key, once: its setter (type and validator), its getter and the flag that
// overrides it.
struct Field {
  std::string_view key;
  Status (*set)(const json& value, Config& config);
  json (*get)(const Config& config);
  std::string_view flag;  // "" when only the file sets it
  bool numeric = false;   // the flag's text is read as an unsigned integer
};

// One table row per kind of value: the member is named once.
template <auto Member, Status (*Check)(const std::string&)>
Field stringKey(std::string_view key, std::string_view flag = "") {
  return {key, setString<Member, Check>, get<Member>, flag};
}
template <auto Member, Status (*Check)(std::uint64_t)>
Field unsignedKey(std::string_view key, std::string_view flag = "", bool numeric = false) {
  return {key, setUnsigned<Member, Check>, get<Member>, flag, numeric};
}
template <auto Member, Status (*Check)(std::uint64_t)>
Field sizeKey(std::string_view key) {
  return {key, setSize<Member, Check>, get<Member>, ""};
}
template <auto Member, Status (*Check)(std::int64_t)>
Field integerKey(std::string_view key) {
  return {key, setInteger<Member, Check>, get<Member>, ""};
}
template <auto Member>
Field boolKey(std::string_view key) {
  return {key, setBool<Member>, get<Member>, ""};
}
template <auto Member>
Field pathListKey(std::string_view key) {
  return {key, setPathList<Member>, get<Member>, ""};
}

const std::array<Field, 33> kFields = {
    stringKey<&Config::containerd_socket, socketPath>("containerd_socket", "--containerd"),
    stringKey<&Config::listen, socketPath>("listen", "--listen"),
    stringKey<&Config::socket_group, anyString>("socket_group", "--socket-group"),
    stringKey<&Config::log_root, absolutePath>("log_root", "--log-root"),
    stringKey<&Config::log_shim, optionalAbsolutePath>("log_shim"),
    sizeKey<&Config::log_max_size, anyCount>("log_max_size"),
    unsignedKey<&Config::log_max_files, maxFiles>("log_max_files"),
    stringKey<&Config::log_policy, logPolicy>("log_policy"),
    sizeKey<&Config::log_rate_limit, positiveRate>("log_rate_limit"),
    unsignedKey<&Config::log_retention_ms, retentionDuration>("log_retention_ms"),
    sizeKey<&Config::log_retention_size, anyCount>("log_retention_size"),
    stringKey<&Config::log_level, logLevel>("log_level", "--log-level"),
    stringKey<&Config::log_format, logFormat>("log_format", "--log-format"),
    unsignedKey<&Config::default_shutdown_timeout_ms, anyDuration>("default_shutdown_timeout_ms"),
    unsignedKey<&Config::task_create_timeout_ms, positiveDuration>("task_create_timeout_ms"),
    integerKey<&Config::default_pids_limit, pidsLimit>("default_pids_limit"),
    unsignedKey<&Config::restart_initial_delay_ms, positiveDuration>("restart_initial_delay_ms"),
    unsignedKey<&Config::restart_max_delay_ms, positiveDuration>("restart_max_delay_ms"),
    unsignedKey<&Config::restart_max_failures, restartFailures>("restart_max_failures"),
    unsignedKey<&Config::restart_window_ms, positiveDuration>("restart_window_ms"),
    stringKey<&Config::seccomp_profile, seccompProfile>("seccomp_profile", "--seccomp-profile"),
    pathListKey<&Config::mount_sources>("mount_sources"),
    boolKey<&Config::allow_elevated>("allow_elevated"),
    unsignedKey<&Config::status_interval_ms, positiveDuration>("status_interval_ms"),
    stringKey<&Config::broker, brokerUrl>("broker", "--broker"),
    unsignedKey<&Config::zbus_workers, workerCount>("zbus_workers", "--zbus-workers", true),
    unsignedKey<&Config::pull_parallel_layers, parallelLayers>("pull_parallel_layers"),
    stringKey<&Config::runtime, runtimeName>("runtime", "--runtime"),
    stringKey<&Config::shim_group, shimGroup>("shim_group", "--shim-group"),
    unsignedKey<&Config::shim_keepalive_ms, anyCount>("shim_keepalive_ms"),
    boolKey<&Config::seccomp_precompile>("seccomp_precompile"),
    stringKey<&Config::metrics_textfile, metricsTextfile>("metrics_textfile"),
    stringKey<&Config::metrics_listen, metricsListen>("metrics_listen"),
};

// Command-line flags. Those taking a value name the Flags member that stores it.
struct FlagDef {
  std::string_view name;
  std::optional<std::string> Flags::*value;  // nullptr: a switch (--help, --version)
  std::string_view metavar;
  std::string_view help;
};

const std::array<FlagDef, 14> kFlags = {{
    {"--config", &Flags::config_file, "FILE", "read settings from this JSON file first"},
    {"--containerd", &Flags::containerd_socket, "SOCK",
     "containerd's socket (default /run/containerd/containerd.sock)"},
    {"--listen", &Flags::listen, "PATH", "contd's gRPC socket (default /run/contd/contd.sock)"},
    {"--socket-group", &Flags::socket_group, "NAME", "group owning the gRPC socket (name or gid)"},
    {"--log-root", &Flags::log_root, "DIR", "container log folder (default /var/log/contd)"},
    {"--log-level", &Flags::log_level, "LEVEL", "trace, debug, info, warn, error (default info)"},
    {"--log-format", &Flags::log_format, "FORMAT",
     "text or json (one object per line); the journal gets fields natively"},
    {"--broker", &Flags::broker, "URL",
     "serve zbus on this Redis (unix:///var/run/redis.sock, tcp://host:port)"},
    {"--zbus-workers", &Flags::zbus_workers, "N", "zbus calls served at once (default 4)"},
    {"--seccomp-profile", &Flags::seccomp_profile, "FILE",
     "default seccomp profile of containers (\"\": none)"},
    {"--runtime", &Flags::runtime, "NAME",
     "OCI runtime of containers Run from now on: runc, crun or a path (default runc)"},
    {"--shim-group", &Flags::shim_group, "MODE",
     "none (a shim per container) or namespace (one shared shim per namespace)"},
    {"--help", nullptr, "", "show this help and exit"},
    {"--version", nullptr, "", "show the version and exit"},
}};

// RFC 6901: '~' and '/' inside a key are escaped in a JSON pointer.
std::string pointerTo(std::string_view key) {
  std::string pointer = "/";
  for (const char c : key) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
  return pointer;
}

const Field* fieldByKey(std::string_view key) {
  for (const auto& field : kFields) {
    if (field.key == key) {
      return &field;
    }
  }
  return nullptr;
}

Status applyJson(const json& document, Config& config) {
  if (!document.is_object()) {
    return invalidArgument("expected a JSON object at the top level");
  }
  for (const auto& [key, value] : document.items()) {
    const Field* field = fieldByKey(key);
    if (field == nullptr) {
      return invalidArgument(pointerTo(key) + ": unknown key");
    }
    if (auto set = field->set(value, config); !set) {
      return set.error().wrap(pointerTo(key));
    }
  }
  return okStatus();
}

}  // namespace

Result<Config> parseConfig(std::string_view json_text) {
  json document;
  try {
    document = json::parse(json_text);
  } catch (const json::exception& e) {
    // Bad JSON (parse_error) or a number beyond a double (out_of_range, "1e400").
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the rest says where.
    std::string message = e.what();
    if (auto end = message.find("] "); message.starts_with("[json.") && end != std::string::npos) {
      message.erase(0, end + 2);
    }
    return invalidArgument(message);
  }
  Config config;
  CONTD_RETURN_IF_ERROR(applyJson(document, config));
  return config;
}

Result<Config> loadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return sysError("open config '" + path + "'", errno);
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return sysError("read config '" + path + "'", errno);
  }
  auto config = parseConfig(text.str());
  if (!config) {
    return config.error().wrap(path);
  }
  return config;
}

Result<Flags> parseFlags(std::span<const std::string_view> args) {
  Flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::optional<std::string_view> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "-h") {
      arg = "--help";
    }
    const FlagDef* def = nullptr;
    for (const auto& candidate : kFlags) {
      if (candidate.name == arg) {
        def = &candidate;
      }
    }
    if (def == nullptr) {
      return invalidArgument((arg.starts_with("-") ? "unknown flag '" : "unexpected argument '") +
                             std::string(arg) + "'");
    }
    if (def->value == nullptr) {
      if (inline_value) {
        return invalidArgument(std::string(arg) + ": takes no value");
      }
      (arg == "--help" ? flags.help : flags.version) = true;
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) {
        return invalidArgument(std::string(arg) + ": missing value");
      }
      inline_value = args[++i];
    }
    flags.*(def->value) = std::string(*inline_value);
  }
  return flags;
}

Result<Config> resolveConfig(const Flags& flags) {
  Config config;
  if (flags.config_file) {
    auto loaded = loadConfigFile(*flags.config_file);
    if (!loaded) {
      return loaded.error();
    }
    config = std::move(loaded).value();
  }
  for (const auto& def : kFlags) {
    if (def.value == nullptr || !(flags.*(def.value))) {
      continue;
    }
    for (const auto& field : kFields) {
      if (field.flag != def.name) {
        continue;
      }
      const std::string& text = *(flags.*(def.value));
      json value = text;
      if (field.numeric) {
        std::uint64_t number = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (ec != std::errc() || end != text.data() + text.size()) {
          return invalidArgument(std::string(def.name) + ": expected unsigned integer, got '" +
                                 text + "'");
        }
        value = number;
      }
      if (auto set = field.set(value, config); !set) {
        return set.error().wrap(def.name);
      }
    }
  }
  return config;
}

std::string hideBrokerPassword(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return std::string(url);
  }
  const std::string_view rest = url.substr(scheme + 3);
  const auto at = rest.substr(0, rest.find('/')).rfind('@');
  if (at == std::string_view::npos) {
    return std::string(url);
  }
  return std::string(url.substr(0, scheme + 3)) + "***" + std::string(rest.substr(at));
}

std::string configJson(const Config& config, bool hide_secrets) {
  nlohmann::ordered_json document = nlohmann::ordered_json::object();
  for (const auto& field : kFields) {
    document[std::string(field.key)] = field.get(config);
  }
  if (hide_secrets) {
    document["broker"] = hideBrokerPassword(config.broker);
  }
  return document.dump(2);
}

std::string usage() {
  std::string text =
      "usage: contd [FLAGS]\n"
      "\n"
      "contd runs containers through containerd and serves its gRPC API on a unix socket.\n"
      "Containers keep running when contd stops. Flags override the --config file.\n"
      "\n"
      "flags:\n";
  for (const auto& def : kFlags) {
    std::string left = "  " + std::string(def.name);
    if (!def.metavar.empty()) {
      left += " " + std::string(def.metavar);
    }
    left.resize(std::max<std::size_t>(left.size() + 2, 24), ' ');
    text += left + std::string(def.help) + "\n";
  }
  text += "\nconfig file: a JSON object with the keys\n";
  for (const auto& field : kFields) {
    text += "  " + std::string(field.key) + "\n";
  }
  return text;
}

}  // namespace contd::daemon
