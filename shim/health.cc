#include "shim/health.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

namespace contd::shim {

std::string formatHealth(const Health& health) {
  std::string out = "{\"writer_restarts\":" + std::to_string(health.writer_restarts) +
                    ",\"dropped_bytes\":" + std::to_string(health.dropped_bytes) +
                    ",\"dropped_records\":" + std::to_string(health.dropped_records) +
                    ",\"policy\":\"";
  out += health.policy;
  out += "\"}\n";
  return out;
}

std::optional<std::uint64_t> healthNumber(std::string_view json, std::string_view key) {
  std::string needle = "\"";
  needle += key;
  needle += "\":";
  const std::size_t at = json.find(needle);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  const char* begin = json.data() + at + needle.size();
  const char* end = json.data() + json.size();
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return std::nullopt;
  }
  return value;
}

bool writeHealthFile(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) {
    return false;
  }
  const bool written = ::write(fd, content.data(), content.size()) ==
                       static_cast<ssize_t>(content.size());
  ::close(fd);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace contd::shim
