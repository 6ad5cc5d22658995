#include "tests/unit/zbus/vectors.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace contd::zbus::testing {
namespace {

using nlohmann::json;

std::uint64_t hexToInt(std::string_view hex) {
  return std::stoull(std::string(hex), nullptr, 16);
}

}  // namespace

std::string vectorsDir() {
  const std::filesystem::path dir = CONTD_ZBUS_VECTORS_DIR;
  std::error_code ec;
  return std::filesystem::exists(dir / "vectors.json", ec) ? dir.string() : "";
}

std::string readVector(std::string_view file) {
  std::ifstream in(std::filesystem::path(CONTD_ZBUS_VECTORS_DIR) / std::string(file),
                   std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const json& vectorIndex() {
  static const json index = [] {
    const std::string text = readVector("vectors.json");
    return text.empty() ? json::object() : json::parse(text);
  }();
  return index;
}

// A reference into the index (value() would copy, and references into the copy dangle).
const json& allVectors() {
  static const json empty = json::array();
  return vectorIndex().contains("vectors") ? vectorIndex().at("vectors") : empty;
}

const json& vectorEntry(std::string_view name, std::string_view direction) {
  static const json null;
  for (const auto& entry : allVectors()) {
    if (entry.at("name").get<std::string>() == name &&
        entry.at("direction").get<std::string>() == direction) {
      return entry;
    }
  }
  return null;
}

std::vector<std::string> pairedVectorNames() {
  std::vector<std::string> names;
  for (const auto& entry : allVectors()) {
    const std::string name = entry.at("name");
    if (entry.at("direction") == "request" && !vectorEntry(name, "response").is_null()) {
      names.push_back(name);
    }
  }
  return names;
}

GoTime timeFromJson(const json& decoded) {
  const std::string hex = decoded.at("$hex");
  if (hex.size() == 8) {
    return GoTime{static_cast<std::int64_t>(hexToInt(hex)), 0};
  }
  if (hex.size() == 16) {
    const std::uint64_t data = hexToInt(hex);
    return GoTime{static_cast<std::int64_t>(data & ((1ULL << 34) - 1)),
                  static_cast<std::uint32_t>(data >> 34)};
  }
  return GoTime{static_cast<std::int64_t>(hexToInt(hex.substr(8))),
                static_cast<std::uint32_t>(hexToInt(hex.substr(0, 8)))};
}

GoSlice<std::string> stringSliceFromJson(const json& decoded) {
  if (decoded.is_null()) {
    return std::nullopt;
  }
  return decoded.get<std::vector<std::string>>();
}

Container containerFromJson(const json& d) {
  Container c;
  c.name = d.at("Name");
  c.root_fs = d.at("RootFS");
  c.env = stringSliceFromJson(d.at("Env"));
  c.working_dir = d.at("WorkingDir");
  c.network_namespace = d.at("Network").at("Namespace");
  if (!d.at("Mounts").is_null()) {
    c.mounts.emplace();
    for (const auto& m : d.at("Mounts")) {
      c.mounts->push_back({m.at("Source"), m.at("Target")});
    }
  }
  c.entrypoint = d.at("Entrypoint");
  c.interactive = d.at("Interactive");
  c.cpu = d.at("CPU").at("$uint64");
  c.memory = d.at("Memory").at("$uint64");
  if (!d.at("Logs").is_null()) {
    c.logs.emplace();
    for (const auto& l : d.at("Logs")) {
      c.logs->push_back({l.at("Type"), l.at("Data").at("Stdout"), l.at("Data").at("Stderr")});
    }
  }
  if (!d.at("Stats").is_null()) {
    c.stats.emplace();
    for (const auto& s : d.at("Stats")) {
      c.stats->push_back({s.at("Type"), s.at("Endpoint")});
    }
  }
  c.elevated = d.at("Elevated");
  c.created_at = timeFromJson(d.at("CreatedAt"));
  c.root_fs_propagation = d.at("RootFsPropagation");
  c.shutdown_timeout_ns = d.at("ShutdownTimeout").at("$int64");
  return c;
}

std::string toHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

}  // namespace contd::zbus::testing
