#include "modules/contctl/daemon_facts.h"

#include <array>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/contctl/output.h"

namespace contd::contctl {
namespace {

const std::array<std::string_view, 16> kFields = {
    "Version",    "Containerd", "ContainerdRevision", "Runtime",   "RuntimeVersion",
    "ShimGroup",  "Containers", "Running",            "Created",   "Stopped",
    "BackingOff", "Failed",     "Unknown",            "Namespaces", "Images",
    "Config"};

std::string containerdText(const v1::VersionResponse& version) {
  if (version.containerd_version().empty()) {
    return "unknown (" + version.containerd_error() + ")";
  }
  return version.containerd_version() +
         (version.containerd_revision().empty() ? ""
                                                : " (revision " + version.containerd_revision() + ")");
}

std::string runtimeText(const v1::VersionResponse& version) {
  return version.runtime() + " " +
         (version.runtime_version().empty() ? "unknown (" + version.runtime_error() + ")"
                                            : version.runtime_version());
}

std::string countsText(const v1::ContainerCounts& counts) {
  return std::to_string(counts.total()) + " (running " + std::to_string(counts.running()) +
         ", created " + std::to_string(counts.created()) + ", stopped " +
         std::to_string(counts.stopped()) + ", backing-off " +
         std::to_string(counts.backing_off()) + ", failed " + std::to_string(counts.failed()) +
         ", unknown " + std::to_string(counts.unknown()) + ")";
}

// A config value as an operator writes it: strings bare, lists comma-separated.
std::string valueText(const nlohmann::ordered_json& value) {
  if (value.is_string()) {
    const auto text = value.get<std::string>();
    return text.empty() ? "\"\"" : text;
  }
  if (value.is_array()) {
    std::string text;
    for (const auto& item : value) {
      text += (text.empty() ? "" : ", ") + valueText(item);
    }
    return text.empty() ? "[]" : text;
  }
  return value.dump();
}

std::vector<std::string> configLines(const std::string& config_json) {
  const auto config = nlohmann::ordered_json::parse(config_json, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    return {config_json};
  }
  std::vector<std::string> lines;
  for (const auto& [key, value] : config.items()) {
    lines.push_back(key + ": " + valueText(value));
  }
  return lines;
}

}  // namespace

std::string formatVersion(std::string_view contctl_version, const v1::VersionResponse& version) {
  std::string text = "contctl " + std::string(contctl_version) + "\n";
  text += "contd " + version.version() + "\n";
  if (version.containerd_version().empty()) {
    text += "containerd: " + version.containerd_error() + "\n";
  } else {
    text += "containerd " + containerdText(version) + "\n";
  }
  text += "runtime " + runtimeText(version) + "\n";
  return text;
}

std::string versionJson(std::string_view contctl_version, const v1::VersionResponse& version) {
  nlohmann::ordered_json out = {{"contctl", contctl_version}};
  const auto fields = nlohmann::ordered_json::parse(toJson(version));
  for (const auto& [key, value] : fields.items()) {
    out[key] = value;
  }
  return out.dump(1) + "\n";
}

std::string formatInfo(const v1::InfoResponse& info) {
  std::string text;
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Version", info.version().version()},
      {"Containerd", containerdText(info.version())},
      {"Runtime", runtimeText(info.version())},
      {"Shim group", info.version().shim_group()},
      {"Containers", countsText(info.containers())},
      {"Namespaces", std::to_string(info.namespaces())},
      {"Images", std::to_string(info.images())},
  };
  for (const auto& [key, value] : rows) {
    std::string label = key + ":";
    label.resize(13, ' ');
    text += label + value + "\n";
  }
  text += "Config:\n";
  for (const auto& line : configLines(info.config_json())) {
    text += "  " + line + "\n";
  }
  return text;
}

std::span<const std::string_view> infoFields() { return kFields; }

std::string infoField(const v1::InfoResponse& info, std::string_view field) {
  const auto& version = info.version();
  const auto& counts = info.containers();
  if (field == "Version") return version.version();
  if (field == "Containerd") return version.containerd_version();
  if (field == "ContainerdRevision") return version.containerd_revision();
  if (field == "Runtime") return version.runtime();
  if (field == "RuntimeVersion") return version.runtime_version();
  if (field == "ShimGroup") return version.shim_group();
  if (field == "Containers") return std::to_string(counts.total());
  if (field == "Running") return std::to_string(counts.running());
  if (field == "Created") return std::to_string(counts.created());
  if (field == "Stopped") return std::to_string(counts.stopped());
  if (field == "BackingOff") return std::to_string(counts.backing_off());
  if (field == "Failed") return std::to_string(counts.failed());
  if (field == "Unknown") return std::to_string(counts.unknown());
  if (field == "Namespaces") return std::to_string(info.namespaces());
  if (field == "Images") return std::to_string(info.images());
  if (field == "Config") return info.config_json();
  return "";
}

}  // namespace contd::contctl
