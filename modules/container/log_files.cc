#include "modules/container/log_files.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <fstream>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/common/logging.h"

namespace contd::container {
namespace {

// containerd parses the log URI as a URL: keep path characters, escape the rest.
std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string shimUri(const LogFilesOptions& options) {
  // The logger derives <log_root>/<ns>/<id>.log itself from its environment.
  return "binary://" + percentEncode(options.log_shim.string()) +
         "?log_root=" + percentEncode(options.log_root.string()) +
         "&max_size=" + std::to_string(options.max_size) +
         "&max_files=" + std::to_string(options.max_files) +
         (options.policy == "drop" ? "&policy=drop&rate=" + std::to_string(options.rate_limit)
                                   : std::string());
}

std::uint64_t unsignedField(const nlohmann::json& health, const char* key) {
  const auto it = health.find(key);
  return it != health.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

}  // namespace

LogFiles::LogFiles(LogFilesOptions options) : options_(std::move(options)) {
  options_.log_root = std::filesystem::absolute(options_.log_root);
  uri_ = shimUri(options_);
}

std::filesystem::path LogFiles::path(std::string_view ns, std::string_view name) const {
  return options_.log_root / std::string(ns) / (std::string(name) + ".log");
}

Status LogFiles::ensureFolder(std::string_view ns) const {
  const auto folder = options_.log_root / std::string(ns);
  std::error_code ec;
  std::filesystem::create_directories(options_.log_root, ec);
  if (ec) {
    return internalError("create log folder '" + options_.log_root.string() + "': " + ec.message());
  }
  // Logs may hold secrets a container printed: group-readable at most, like the driver's.
  if (::mkdir(folder.c_str(), 0750) != 0 && errno != EEXIST) {
    return sysError("create log folder '" + folder.string() + "'", errno);
  }
  return okStatus();
}

containerd::TaskIo LogFiles::taskIo() const {
  return containerd::TaskIo{.stdin_path = "", .stdout_uri = uri_, .stderr_uri = uri_};
}

std::filesystem::path LogFiles::healthPath(std::string_view ns, std::string_view name) const {
  return options_.log_root / std::string(ns) / ("." + std::string(name) + ".log.health");
}

bool LogFiles::exists(std::string_view ns, std::string_view name) const {
  std::error_code ec;
  return std::filesystem::exists(path(ns, name), ec);
}

std::vector<std::filesystem::path> LogFiles::candidateFiles(std::string_view ns,
                                                           std::string_view name) const {
  // The driver removes rotated files numbered past max_files at its next rotation
  // (docs/logs.md#rotation), so these are all it leaves.
  std::vector<std::filesystem::path> files = {path(ns, name), healthPath(ns, name)};
  for (unsigned i = 1; i <= options_.max_files; ++i) {
    files.push_back(path(ns, name).string() + "." + std::to_string(i));
  }
  return files;
}

std::vector<std::filesystem::path> LogFiles::existingFiles(std::string_view ns,
                                                           std::string_view name) const {
  std::vector<std::filesystem::path> found;
  for (auto& file : candidateFiles(ns, name)) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) == 0) {
      found.push_back(std::move(file));
    }
  }
  return found;
}

void LogFiles::remove(std::string_view ns, std::string_view name) const {
  for (const auto& file : candidateFiles(ns, name)) {
    std::error_code ec;
    if (!std::filesystem::remove(file, ec) && ec) {
      log::container()->warn("remove log file={} ns={} name={}: {}", file.string(), ns, name,
                             ec.message());
    }
  }
}

LogHealth LogFiles::health(std::string_view ns, std::string_view name) const {
  // Replaced atomically by the driver; absent when it never ran (or had bad arguments).
  std::ifstream in(healthPath(ns, name));
  std::string line;
  if (!in || !std::getline(in, line)) {
    return {};
  }
  const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    return {};
  }
  return {.writer_restarts = unsignedField(json, "writer_restarts"),
          .dropped_bytes = unsignedField(json, "dropped_bytes")};
}

}  // namespace contd::container
