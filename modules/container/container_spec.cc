#include "modules/container/container_spec.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace contd::container {
namespace {

using nlohmann::json;

// Reads one JSON object field by field. A missing key leaves the C++ default in place,
// so a record written before a field existed still reads; a key of the wrong type is an
// error naming its JSON pointer ("/mounts/1/target: expected string").
class ObjectReader {
public:
  ObjectReader(const json& object, std::string pointer)
      : object_(object), pointer_(std::move(pointer)) {}

  Status string(const char* key, std::string& out) const {
    const json* value = find(key);
    if (value == nullptr) {
      return okStatus();
    }
    if (!value->is_string()) {
      return typeError(key, "string");
    }
    out = value->get_ref<const std::string&>();
    return okStatus();
  }

  Status boolean(const char* key, bool& out) const {
    const json* value = find(key);
    if (value == nullptr) {
      return okStatus();
    }
    if (!value->is_boolean()) {
      return typeError(key, "boolean");
    }
    out = value->get<bool>();
    return okStatus();
  }

  // nlohmann stores non-negative integers as unsigned and negative ones as signed, so
  // a signed value here is always negative; floats are refused rather than truncated.
  template <typename T>
  Status unsignedInt(const char* key, T& out) const {
    static_assert(std::is_unsigned_v<T>);
    const json* value = find(key);
    if (value == nullptr) {
      return okStatus();
    }
    if (!value->is_number_unsigned() ||
        value->get<std::uint64_t>() > std::numeric_limits<T>::max()) {
      return typeError(key, "unsigned " + std::to_string(sizeof(T) * 8) + "-bit integer");
    }
    out = static_cast<T>(value->get<std::uint64_t>());
    return okStatus();
  }

  Status signedInt(const char* key, std::int64_t& out) const {
    const json* value = find(key);
    if (value == nullptr) {
      return okStatus();
    }
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const bool fits = value->is_number_integer() &&
                      (!value->is_number_unsigned() || value->get<std::uint64_t>() <= kMax);
    if (!fits) {
      return typeError(key, "signed 64-bit integer");
    }
    out = value->get<std::int64_t>();
    return okStatus();
  }

  Status stringArray(const char* key, std::vector<std::string>& out) const {
    const json* value = find(key);
    if (value == nullptr) {
      return okStatus();
    }
    if (!value->is_array()) {
      return typeError(key, "array of strings");
    }
    std::vector<std::string> items;
    for (std::size_t i = 0; i < value->size(); ++i) {
      const json& item = (*value)[i];
      if (!item.is_string()) {
        return invalidArgument(path(key) + "/" + std::to_string(i) + ": expected string");
      }
      items.push_back(item.get<std::string>());
    }
    out = std::move(items);
    return okStatus();
  }

  const json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  std::string path(const char* key) const { return pointer_ + "/" + key; }

  Error typeError(const char* key, const std::string& expected) const {
    return invalidArgument(path(key) + ": expected " + expected);
  }

private:
  const json& object_;
  std::string pointer_;
};

Result<std::vector<MountSpec>> mountsFromJson(const ObjectReader& spec) {
  std::vector<MountSpec> mounts;
  const json* value = spec.find("mounts");
  if (value == nullptr) {
    return mounts;
  }
  if (!value->is_array()) {
    return spec.typeError("mounts", "array of objects");
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const std::string pointer = spec.path("mounts") + "/" + std::to_string(i);
    const json& item = (*value)[i];
    if (!item.is_object()) {
      return invalidArgument(pointer + ": expected object");
    }
    const ObjectReader mount(item, pointer);
    MountSpec out;
    CONTD_RETURN_IF_ERROR(mount.string("source", out.source));
    CONTD_RETURN_IF_ERROR(mount.string("target", out.target));
    CONTD_RETURN_IF_ERROR(mount.boolean("readonly", out.readonly));
    mounts.push_back(std::move(out));
  }
  return mounts;
}

Status durationFromJson(const ObjectReader& in, const char* key, std::chrono::milliseconds& out) {
  std::uint64_t ms = static_cast<std::uint64_t>(out.count());
  CONTD_RETURN_IF_ERROR(in.unsignedInt(key, ms));
  if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return in.typeError(key, "milliseconds within 63 bits");
  }
  out = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
  return okStatus();
}

// "health": {"argv": [...], "interval_ms": N, "timeout_ms": N, "retries": N,
// "start_period_ms": N}; absent or null: no health check.
Result<std::optional<HealthCheckSpec>> healthFromJson(const ObjectReader& spec) {
  const json* value = spec.find("health");
  if (value == nullptr || value->is_null()) {
    return std::optional<HealthCheckSpec>();
  }
  if (!value->is_object()) {
    return spec.typeError("health", "object");
  }
  const ObjectReader in(*value, spec.path("health"));
  HealthCheckSpec health;
  CONTD_RETURN_IF_ERROR(in.stringArray("argv", health.argv));
  CONTD_RETURN_IF_ERROR(durationFromJson(in, "interval_ms", health.interval));
  CONTD_RETURN_IF_ERROR(durationFromJson(in, "timeout_ms", health.timeout));
  CONTD_RETURN_IF_ERROR(in.unsignedInt("retries", health.retries));
  CONTD_RETURN_IF_ERROR(durationFromJson(in, "start_period_ms", health.start_period));
  return std::optional<HealthCheckSpec>(std::move(health));
}

Result<ContainerSpec> readSpec(const json& json) {
  if (!json.is_object()) {
    return invalidArgument("container spec: expected a JSON object");
  }
  // Unknown keys are ignored on purpose: specs are stored in containerd records and read
  // back by whatever contd version runs next, so a record written by a newer contd (after
  // a downgrade) must still load. Missing keys keep their defaults for the same reason.
  const ObjectReader in(json, "");
  ContainerSpec spec;
  CONTD_RETURN_IF_ERROR(in.string("name", spec.name));
  CONTD_RETURN_IF_ERROR(in.string("rootfs", spec.rootfs));
  CONTD_RETURN_IF_ERROR(in.string("image", spec.image));
  CONTD_RETURN_IF_ERROR(in.string("entrypoint", spec.entrypoint));
  CONTD_RETURN_IF_ERROR(in.stringArray("argv", spec.argv));
  CONTD_RETURN_IF_ERROR(in.stringArray("env", spec.env));
  CONTD_RETURN_IF_ERROR(in.string("working_dir", spec.working_dir));
  CONTD_RETURN_IF_ERROR(in.string("network_namespace", spec.network_namespace));
  auto mounts = mountsFromJson(in);
  if (!mounts) {
    return mounts.error();
  }
  spec.mounts = std::move(mounts).value();
  CONTD_RETURN_IF_ERROR(in.boolean("interactive", spec.interactive));
  CONTD_RETURN_IF_ERROR(in.unsignedInt("cpu", spec.cpu));
  CONTD_RETURN_IF_ERROR(in.unsignedInt("memory_bytes", spec.memory_bytes));
  CONTD_RETURN_IF_ERROR(in.signedInt("pids_limit", spec.pids_limit));
  CONTD_RETURN_IF_ERROR(in.string("hostname", spec.hostname));
  CONTD_RETURN_IF_ERROR(in.stringArray("tags", spec.tags));
  CONTD_RETURN_IF_ERROR(in.boolean("elevated", spec.elevated));
  CONTD_RETURN_IF_ERROR(in.string("rootfs_propagation", spec.rootfs_propagation));
  std::int64_t timeout_ms = spec.shutdown_timeout.count();
  CONTD_RETURN_IF_ERROR(in.signedInt("shutdown_timeout_ms", timeout_ms));
  spec.shutdown_timeout = std::chrono::milliseconds(timeout_ms);
  CONTD_RETURN_IF_ERROR(in.string("seccomp", spec.seccomp));
  CONTD_RETURN_IF_ERROR(in.boolean("readonly_rootfs", spec.readonly_rootfs));
  CONTD_RETURN_IF_ERROR(in.string("user", spec.user));
  std::string restart;
  CONTD_RETURN_IF_ERROR(in.string("restart", restart));
  const auto mode = restartModeFromName(restart);
  if (!mode) {
    return in.typeError("restart", "\"no\", \"on-failure\" or \"always\"");
  }
  spec.restart = *mode;
  CONTD_RETURN_IF_ERROR(in.unsignedInt("restart_max", spec.restart_max));
  CONTD_RETURN_IF_ERROR(in.boolean("auto_remove", spec.auto_remove));
  auto health = healthFromJson(in);
  if (!health) {
    return health.error();
  }
  spec.health = std::move(health).value();
  return spec;
}

}  // namespace

std::string_view containerStatusName(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::kUnknown: return "unknown";
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kStopped: return "stopped";
    case ContainerStatus::kBackingOff: return "backing-off";
    case ContainerStatus::kFailed: return "failed";
  }
  return "unknown";
}

std::string_view healthStatusName(HealthStatus status) {
  switch (status) {
    case HealthStatus::kStarting: return "starting";
    case HealthStatus::kHealthy: return "healthy";
    case HealthStatus::kUnhealthy: return "unhealthy";
  }
  return "starting";
}

std::string_view restartModeName(RestartMode mode) {
  switch (mode) {
    case RestartMode::kDefault: return "";
    case RestartMode::kNo: return "no";
    case RestartMode::kOnFailure: return "on-failure";
    case RestartMode::kAlways: return "always";
  }
  return "";
}

std::optional<RestartMode> restartModeFromName(std::string_view name) {
  for (auto mode : {RestartMode::kDefault, RestartMode::kNo, RestartMode::kOnFailure,
                    RestartMode::kAlways}) {
    if (restartModeName(mode) == name) {
      return mode;
    }
  }
  return std::nullopt;
}

ContainerSpec LimitsUpdate::appliedTo(ContainerSpec spec) const {
  spec.cpu = cpu.value_or(spec.cpu);
  spec.memory_bytes = memory_bytes.value_or(spec.memory_bytes);
  spec.pids_limit = pids_limit.value_or(spec.pids_limit);
  return spec;
}

std::string limitsText(const LimitsUpdate& update) {
  std::string text;
  auto add = [&](std::string_view field, const std::string& value) {
    text += (text.empty() ? "" : " ") + std::string(field) + "=" + value;
  };
  if (update.cpu) {
    add("cpu", std::to_string(*update.cpu));
  }
  if (update.memory_bytes) {
    add("memory_bytes", std::to_string(*update.memory_bytes));
  }
  if (update.pids_limit) {
    add("pids_limit", std::to_string(*update.pids_limit));
  }
  return text;
}

std::string_view desiredStateName(DesiredState state) {
  switch (state) {
    case DesiredState::kRunning: return "running";
    case DesiredState::kStopped: return "stopped";
    case DesiredState::kRemoved: return "removed";
  }
  return "running";
}

nlohmann::json toJson(const ContainerSpec& spec) {
  json mounts = json::array();
  for (const auto& mount : spec.mounts) {
    mounts.push_back(
        {{"source", mount.source}, {"target", mount.target}, {"readonly", mount.readonly}});
  }
  json out{
      {"name", spec.name},
      {"rootfs", spec.rootfs},
      {"image", spec.image},
      {"entrypoint", spec.entrypoint},
      {"argv", spec.argv},
      {"env", spec.env},
      {"working_dir", spec.working_dir},
      {"network_namespace", spec.network_namespace},
      {"mounts", std::move(mounts)},
      {"interactive", spec.interactive},
      {"cpu", spec.cpu},
      {"memory_bytes", spec.memory_bytes},
      {"pids_limit", spec.pids_limit},
      {"hostname", spec.hostname},
      {"tags", spec.tags},
      {"elevated", spec.elevated},
      {"rootfs_propagation", spec.rootfs_propagation},
      {"shutdown_timeout_ms", static_cast<std::int64_t>(spec.shutdown_timeout.count())},
      {"seccomp", spec.seccomp},
      {"readonly_rootfs", spec.readonly_rootfs},
      {"user", spec.user},
      {"restart", restartModeName(spec.restart)},
      {"restart_max", spec.restart_max},
      {"auto_remove", spec.auto_remove},
  };
  // Only when set: the record of a container without one reads as before health checks
  // existed (a retried Run compares the stored spec byte for byte).
  if (spec.health) {
    const auto ms = [](std::chrono::milliseconds duration) {
      return static_cast<std::uint64_t>(std::max<std::int64_t>(0, duration.count()));
    };
    out["health"] = {{"argv", spec.health->argv},
                     {"interval_ms", ms(spec.health->interval)},
                     {"timeout_ms", ms(spec.health->timeout)},
                     {"retries", spec.health->retries},
                     {"start_period_ms", ms(spec.health->start_period)}};
  }
  return out;
}

Result<ContainerSpec> specFromJson(const nlohmann::json& json) {
  // The readers check types before every access, so nothing below should throw; the catch
  // keeps that promise even if a check is ever missed, as a stored record is outside input.
  try {
    return readSpec(json);
  } catch (const nlohmann::json::exception& e) {
    return invalidArgument(std::string("container spec: ") + e.what());
  }
}

}  // namespace contd::container
