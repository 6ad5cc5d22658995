#include "tests/bench/bench_proc.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

namespace contd::bench {

std::vector<pid_t> processIds() {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    pid_t pid = 0;
    const auto [ptr, parse_ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (parse_ec == std::errc() && ptr == name.data() + name.size() && pid > 0) {
      pids.push_back(pid);
    }
  }
  return pids;
}

std::optional<std::uint64_t> procKib(pid_t pid, std::string_view file, std::string_view key) {
  std::istringstream lines(readFile("/proc/" + std::to_string(pid) + "/" + std::string(file)));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':') {
      std::istringstream fields(line.substr(key.size() + 1));
      std::uint64_t kib = 0;
      if (fields >> kib) {
        return kib;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> statusKib(pid_t pid, std::string_view key) {
  return procKib(pid, "status", key);
}

double statusMib(pid_t pid, std::string_view key) {
  return static_cast<double>(statusKib(pid, key).value_or(0)) / 1024;
}

std::optional<SmapsKib> smapsOf(pid_t pid) {
  const auto pss = procKib(pid, "smaps_rollup", "Pss");
  const auto clean = procKib(pid, "smaps_rollup", "Private_Clean");
  const auto dirty = procKib(pid, "smaps_rollup", "Private_Dirty");
  if (!pss || !clean || !dirty) {
    return std::nullopt;
  }
  return SmapsKib{*pss, *clean + *dirty};
}

std::optional<SmapsKib> smapsSum(const std::vector<pid_t>& pids) {
  SmapsKib sum;
  for (const pid_t pid : pids) {
    const auto one = smapsOf(pid);
    if (!one) {
      return std::nullopt;
    }
    sum += *one;
  }
  return sum;
}

namespace {

// Fields 3 (state) to `last` of /proc/<pid>/stat, empty once the process is gone. The
// command name may hold spaces and parentheses: the fields start after the last ')'.
std::vector<std::string> statFields(pid_t pid, int last) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  const auto comm_end = stat.rfind(')');
  std::vector<std::string> fields;
  if (comm_end == std::string::npos || comm_end + 2 > stat.size()) {
    return fields;
  }
  std::istringstream in(stat.substr(comm_end + 2));
  std::string field;
  for (int index = 3; index <= last && in >> field; ++index) {
    fields.push_back(field);
  }
  return fields;
}

}  // namespace

std::optional<pid_t> parentOf(pid_t pid) {
  const std::vector<std::string> fields = statFields(pid, 4);  // state, ppid
  if (fields.size() < 2) {
    return std::nullopt;
  }
  return static_cast<pid_t>(std::strtol(fields[1].c_str(), nullptr, 10));
}

std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> children;
  for (const pid_t pid : processIds()) {
    if (parentOf(pid) == parent) {
      children.push_back(pid);
    }
  }
  return children;
}

std::optional<double> cpuSeconds(pid_t pid) {
  // Fields 3 (state) ... 14 (utime) and 15 (stime).
  const std::vector<std::string> fields = statFields(pid, 15);
  if (fields.size() < 13) {
    return std::nullopt;
  }
  const double ticks = std::strtod(fields[11].c_str(), nullptr) +
                       std::strtod(fields[12].c_str(), nullptr);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Status resetPeakRss(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/clear_refs";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return sysError("open " + path, errno);
  }
  const bool written = ::write(fd, "5", 1) == 1;
  const int err = errno;
  ::close(fd);
  return written ? okStatus() : sysError("write 5 to " + path, err);
}

RssSampler::RssSampler(pid_t pid, Clock::time_point start, std::chrono::milliseconds interval)
    : thread_([this, pid, start, interval] {
        while (!stop_.load()) {
          samples_.push_back({msSince(start), statusMib(pid, "VmRSS")});
          std::this_thread::sleep_for(interval);
        }
      }) {}

std::vector<RssSample> RssSampler::stop() {
  stop_.store(true);
  if (thread_.joinable()) {
    thread_.join();
  }
  return samples_;
}

}  // namespace contd::bench
