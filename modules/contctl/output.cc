#include "modules/contctl/output.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <nlohmann/json.hpp>

#include "modules/common/time_format.h"
#include "modules/contctl/container_list.h"

namespace contd::contctl {
namespace {

constexpr std::string_view kNone = "-";

std::string timeText(const google::protobuf::Timestamp& ts) {
  return formatRfc3339(static_cast<std::time_t>(ts.seconds()));
}

// Quotes an argument the way a shell would need it, so the command line can be pasted.
std::string shellQuote(const std::string& arg) {
  const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("@%+=:,./_-").find(static_cast<char>(c)) !=
                                  std::string_view::npos;
  });
  if (plain) {
    return arg;
  }
  std::string quoted = "'";
  for (const char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string bytesText(std::uint64_t bytes) {
  if (bytes == 0) {
    return "none";
  }
  static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1ULL << 40, "TiB"}, {1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}};
  for (const auto& [size, unit] : kUnits) {
    if (bytes >= size && bytes % size == 0) {
      return std::to_string(bytes) + " (" + std::to_string(bytes / size) + " " + unit + ")";
    }
  }
  return std::to_string(bytes);
}

std::string orNone(const std::string& text) { return text.empty() ? std::string(kNone) : text; }

// Key-value block: keys padded to the widest, list values one per line under the first.
class Block {
public:
  void add(std::string key, std::string value) { add(std::move(key), std::vector{value}); }
  void add(std::string key, std::vector<std::string> values) {
    if (values.empty()) {
      values.emplace_back(kNone);
    }
    width_ = std::max(width_, key.size() + 1);
    lines_.emplace_back(std::move(key), std::move(values));
  }
  std::string text() const {
    std::string out;
    for (const auto& [key, values] : lines_) {
      std::string label = key + ":";
      label.resize(width_ + 2, ' ');
      for (std::size_t i = 0; i < values.size(); ++i) {
        out += (i == 0 ? label : std::string(label.size(), ' ')) + values[i] + "\n";
      }
    }
    return out;
  }

private:
  std::size_t width_ = 0;
  std::vector<std::pair<std::string, std::vector<std::string>>> lines_;
};

}  // namespace

std::string formatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) {
        line += std::string(widths[c] - row[c].size() + 3, ' ');
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);  // an empty last cell leaves no padding
    out += line + "\n";
  }
  return out;
}

std::string formatNamespaces(const v1::ListNamespacesResponse& response) {
  std::vector<std::vector<std::string>> rows = {{"NAMESPACE"}};
  for (const auto& ns : response.namespaces()) {
    rows.push_back({ns});
  }
  return formatTable(rows);
}

namespace {

// "running", "stopped", "removed" (docs/lifecycle.md).
std::string desiredText(v1::ContainerInfo::DesiredState state) {
  switch (state) {
    case v1::ContainerInfo::DESIRED_RUNNING: return "running";
    case v1::ContainerInfo::DESIRED_STOPPED: return "stopped";
    case v1::ContainerInfo::DESIRED_REMOVED: return "removed";
    default: return std::string(kNone);
  }
}

// contctl's own spelling: "always", "on-failure:3", "no, removed on exit".
std::string restartText(const v1::RestartPolicy& restart, bool auto_remove) {
  std::string text;
  switch (restart.mode()) {
    case v1::RestartPolicy::NO: text = "no"; break;
    case v1::RestartPolicy::ON_FAILURE: text = "on-failure"; break;
    case v1::RestartPolicy::ALWAYS: text = "always"; break;
    default: text = std::string(kNone); break;
  }
  if (restart.max_retries() > 0) {
    text += ":" + std::to_string(restart.max_retries());
  }
  return auto_remove ? text + ", removed on exit" : text;
}

void addLimits(Block& block, const v1::ContainerSpec& spec) {
  block.add("CPU", spec.cpu() == 0 ? "none" : std::to_string(spec.cpu()));
  block.add("Memory", bytesText(spec.memory_bytes()));
  block.add("Pids limit", spec.pids_limit() == 0    ? "default"
                          : spec.pids_limit() < 0   ? "unlimited"
                                                    : std::to_string(spec.pids_limit()));
}

// 500 ms as "500ms", 30000 as "30s", 60000 as "1m".
std::string durationText(std::uint64_t ms) {
  if (ms != 0 && ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

// The health check and what it found: Health, Health check, Last check.
void addHealth(const v1::ContainerInfo& info, Block& block) {
  const auto& check = info.spec().health();
  std::string command;
  for (const auto& arg : check.argv()) {
    command += (command.empty() ? "" : " ") + shellQuote(arg);
  }
  block.add("Health check", command + "; every " + durationText(check.interval_ms()) +
                                ", timeout " + durationText(check.timeout_ms()) + ", retries " +
                                std::to_string(check.retries()) + ", start period " +
                                durationText(check.start_period_ms()));
  if (!info.has_health()) {
    block.add("Health", std::string(kNone));
    return;
  }
  std::string status = v1::HealthState::Status_Name(info.health().status());
  std::transform(status.begin(), status.end(), status.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  block.add("Health", status + ", failing streak " +
                          std::to_string(info.health().failing_streak()));
  if (info.health().log_size() == 0) {
    return;
  }
  const auto& last = *info.health().log().rbegin();
  const auto ms = (google::protobuf::util::TimeUtil::TimestampToMilliseconds(last.end()) -
                   google::protobuf::util::TimeUtil::TimestampToMilliseconds(last.start()));
  std::vector<std::string> lines = {timeText(last.start()) + " code " +
                                    std::to_string(last.exit_code()) + " (" +
                                    std::to_string(ms) + " ms)"};
  std::string_view output = last.output();
  while (!output.empty()) {
    const auto newline = output.find('\n');
    lines.emplace_back(output.substr(0, newline));
    output.remove_prefix(newline == std::string_view::npos ? output.size() : newline + 1);
  }
  block.add("Last check", lines);
}

}  // namespace

std::string formatLimits(const v1::ContainerInfo& info) {
  Block block;
  addLimits(block, info.spec());
  return block.text();
}

std::string formatInspect(const v1::ContainerInfo& info) {
  const auto& spec = info.spec();
  Block block;
  block.add("Namespace", info.namespace_());
  block.add("Name", spec.name());
  block.add("Status", containerStatusText(info.status()));
  block.add("Desired state", desiredText(info.desired_state()));
  block.add("Restart", restartText(spec.restart(), spec.auto_remove()));
  block.add("Pid", info.pid() == 0 ? std::string(kNone) : std::to_string(info.pid()));
  block.add("Exit code", info.has_exit_code() ? std::to_string(info.exit_code()) : "-");
  block.add("Exited at", info.has_exited_at() ? timeText(info.exited_at()) : "-");
  block.add("Created at", info.has_created_at() ? timeText(info.created_at()) : "-");
  block.add("Log path", orNone(info.log_path()));
  block.add("Log restarts", std::to_string(info.log_writer_restarts()));
  block.add("Log dropped bytes", std::to_string(info.log_dropped_bytes()));
  block.add("Restarts", std::to_string(info.restart_count()));
  if (info.has_next_retry()) {
    block.add("Next retry", timeText(info.next_retry()));
  }
  if (info.stopping()) {
    block.add("Stopping", "yes (will not be restarted)");
  }
  std::vector<std::string> exits;
  for (const auto& exit : info.exits()) {
    exits.push_back(timeText(exit.time()) + " code " + std::to_string(exit.exit_code()) +
                    (exit.oom_killed() ? " (oom-killed)" : "") +
                    (exit.unhealthy() ? " (unhealthy)" : ""));
  }
  block.add("Exits", exits);
  if (spec.has_health()) {
    addHealth(info, block);
  }
  if (spec.image().empty()) {
    block.add("Rootfs", orNone(spec.rootfs()));
  } else {
    block.add("Image", spec.image() + (info.image_digest().empty()
                                           ? std::string()
                                           : " (" + info.image_digest() + ")"));
  }
  block.add("User", spec.user().empty() ? "root" : spec.user());
  if (spec.argv_size() > 0) {
    std::string command;
    for (const auto& arg : spec.argv()) {
      command += (command.empty() ? "" : " ") + shellQuote(arg);
    }
    block.add("Command", command);
  } else {
    block.add("Entrypoint", orNone(spec.entrypoint()));
  }
  block.add("Env", std::vector<std::string>(spec.env().begin(), spec.env().end()));
  block.add("Working dir", spec.working_dir().empty() ? "/" : spec.working_dir());
  block.add("Network namespace", orNone(spec.network_namespace()));
  std::vector<std::string> mounts;
  for (const auto& mount : spec.mounts()) {
    mounts.push_back(mount.source() + " -> " + mount.target() + (mount.readonly() ? " (ro)" : ""));
  }
  block.add("Mounts", mounts);
  addLimits(block, spec);
  block.add("Hostname", spec.hostname().empty() ? spec.name() : spec.hostname());
  block.add("Tags", std::vector<std::string>(spec.tags().begin(), spec.tags().end()));
  block.add("Elevated", spec.elevated() ? "yes" : "no");
  block.add("Seccomp", spec.seccomp().empty() ? "default" : spec.seccomp());
  block.add("Read-only rootfs", spec.readonly_rootfs() ? "yes" : "no");
  block.add("Rootfs propagation", orNone(spec.rootfs_propagation()));
  block.add("Shutdown timeout", spec.shutdown_timeout_ms() == 0
                                    ? "default"
                                    : std::to_string(spec.shutdown_timeout_ms()) + " ms");
  return block.text();
}

namespace {

bool is64Bit(const google::protobuf::FieldDescriptor& field) {
  using google::protobuf::FieldDescriptor;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

// protobuf's JSON prints 64-bit integers as strings ("67108864"); scripts want numbers.
// Walks `json` along `descriptor` and turns those strings back into numbers. Well-known types
// (Timestamp, Duration) keep their string form.
void numbers64(nlohmann::ordered_json& json, const google::protobuf::Descriptor& descriptor) {
  if (!json.is_object() || descriptor.file()->package() == "google.protobuf") {
    return;
  }
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const auto& field = *descriptor.field(i);
    const auto found = json.find(field.name());
    if (found == json.end()) {
      continue;
    }
    auto convert = [&](nlohmann::ordered_json& value) {
      if (field.message_type() != nullptr) {
        numbers64(value, *field.message_type());
      } else if (is64Bit(field) && value.is_string()) {
        const auto text = value.get<std::string>();
        value = field.cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT64
                    ? nlohmann::ordered_json(std::stoull(text))
                    : nlohmann::ordered_json(std::stoll(text));
      }
    };
    if (field.is_repeated() && found->is_array()) {
      for (auto& element : *found) {
        convert(element);
      }
    } else if (!field.is_map()) {
      convert(*found);
    }
  }
}

}  // namespace

std::string toJson(const google::protobuf::Message& message, bool one_line) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) {
    return "{}\n";  // cannot happen for our own messages (no Any, no unknown types)
  }
  auto json = nlohmann::ordered_json::parse(out, nullptr, false);
  if (json.is_discarded()) {
    return out + "\n";
  }
  try {
    numbers64(json, *message.GetDescriptor());
  } catch (const std::exception&) {
    // protobuf wrote them; a string that is not a number cannot come from it
  }
  return json.dump(one_line ? -1 : 1, ' ', false,
                   nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

std::string formatEvent(const v1::Event& event) {
  std::string kind = v1::Event::Kind_Name(event.kind());
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) {
    return c == '_' ? '-' : static_cast<char>(std::tolower(c));
  });
  std::string line = timeText(event.time()) + " " + kind + " " + event.namespace_() + "/" +
                     event.id();
  if (event.kind() == v1::Event::EXITED) {
    line += " code=" + std::to_string(event.exit_code());
  }
  if (event.pid() != 0) {
    line += " pid=" + std::to_string(event.pid());
  }
  if (!event.message().empty()) {
    line += " " + event.message();
  }
  return line + "\n";
}

std::string formatStats(const v1::StatsResponse& stats) {
  Block block;
  char cpu[32];
  std::snprintf(cpu, sizeof(cpu), "%.3f s", static_cast<double>(stats.cpu_usage_ns()) / 1e9);
  block.add("CPU time", cpu);
  block.add("Memory", bytesText(stats.memory_usage_bytes()));
  block.add("Memory max", bytesText(stats.memory_max_usage_bytes()));
  // cgroup v1 reports "no limit" as a huge page-aligned number.
  block.add("Memory limit", stats.memory_limit_bytes() >= (1ULL << 62)
                                ? std::string("none")
                                : bytesText(stats.memory_limit_bytes()));
  block.add("Pids", std::to_string(stats.pids_current()));
  block.add("Pids limit",
            stats.pids_limit() == 0 ? std::string("none") : std::to_string(stats.pids_limit()));
  return block.text();
}

}  // namespace contd::contctl
