#include "modules/container/direct_signal.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "modules/common/proc_file.h"
#include "modules/common/unique_fd.h"

namespace contd::container {

namespace {

// Whether one line of /proc/<pid>/cgroup ("N:controllers:/path") names exactly `path`.
bool inCgroup(const std::string& cgroups, const std::string& path) {
  std::size_t line = 0;
  while (line < cgroups.size()) {
    std::size_t end = cgroups.find('\n', line);
    if (end == std::string::npos) {
      end = cgroups.size();
    }
    const std::string text = cgroups.substr(line, end - line);
    line = end + 1;
    const std::size_t colon = text.find(':', text.find(':') + 1);
    if (colon != std::string::npos && text.compare(colon + 1, std::string::npos, path) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool signalContainerInit(pid_t pid, std::string_view ns, std::string_view id, int signal,
                         const std::filesystem::path& proc) {
  if (pid <= 1 || ns.empty() || id.empty()) {
    return false;
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    return false;
  }
  const std::string cgroups = readProcFile(proc / std::to_string(pid) / "cgroup", 64 * 1024);
  if (!inCgroup(cgroups, "/" + std::string(ns) + "/" + std::string(id))) {
    return false;
  }
  return ::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) == 0;
}

}  // namespace contd::container
