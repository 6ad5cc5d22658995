#include "modules/common/proc_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "modules/common/unique_fd.h"

namespace contd {

std::string readProcFile(const std::filesystem::path& path, std::size_t max_bytes) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    return {};
  }
  std::string content;
  char buffer[8192];
  while (content.size() < max_bytes) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return {};
    }
    if (got == 0) {
      break;
    }
    content.append(buffer, static_cast<std::size_t>(got));
  }
  if (content.size() > max_bytes) {
    content.resize(max_bytes);
  }
  return content;
}

std::vector<std::string> readProcStrings(const std::filesystem::path& path) {
  const std::string raw = readProcFile(path);
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t end = raw.find('\0', start);
    end = end == std::string::npos ? raw.size() : end;
    out.emplace_back(raw, start, end - start);
    start = end + 1;
  }
  return out;
}

std::optional<ProcStat> readProcStat(const std::filesystem::path& pid_dir) {
  const std::string stat = readProcFile(pid_dir / "stat", 4096);
  const std::size_t close = stat.rfind(')');
  ProcStat out;
  if (close == std::string::npos ||
      std::sscanf(stat.c_str() + close + 1, " %c %d", &out.state, &out.parent) != 2) {
    return std::nullopt;
  }
  return out;
}

std::vector<std::string> readProcCgroups(const std::filesystem::path& pid_dir) {
  const std::string text = readProcFile(pid_dir / "cgroup", 64 * 1024);
  std::vector<std::string> paths;
  std::size_t line = 0;
  while (line < text.size()) {
    std::size_t end = text.find('\n', line);
    if (end == std::string::npos) {
      end = text.size();
    }
    const std::size_t first = text.find(':', line);
    const std::size_t second = first < end ? text.find(':', first + 1) : std::string::npos;
    if (second < end) {
      paths.push_back(text.substr(second + 1, end - second - 1));
    }
    line = end + 1;
  }
  return paths;
}

}  // namespace contd
