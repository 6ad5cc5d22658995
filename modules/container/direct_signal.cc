#include "modules/container/direct_signal.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "modules/common/proc_file.h"
#include "modules/common/unique_fd.h"

namespace contd::container {


bool signalContainerInit(pid_t pid, std::string_view ns, std::string_view id, int signal,
                         const std::filesystem::path& proc) {
  if (pid <= 1 || ns.empty() || id.empty()) {
    return false;
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    return false;
  }
  const std::string own = "/" + std::string(ns) + "/" + std::string(id);
  const auto paths = readProcCgroups(proc / std::to_string(pid));
  if (std::find(paths.begin(), paths.end(), own) == paths.end()) {
    return false;
  }
  return ::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) == 0;
}

}  // namespace contd::container
