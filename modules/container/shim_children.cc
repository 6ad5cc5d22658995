#include "modules/container/shim_children.h"

#include <cstdlib>
#include <string>

#include "modules/common/proc_file.h"

namespace contd::container {

namespace fs = std::filesystem;

namespace {

pid_t parentOf(const fs::path& pid_dir) {
  const auto stat = readProcStat(pid_dir);
  return stat ? static_cast<pid_t>(stat->parent) : 0;
}

// Which container of `ns` the process's cgroups name ("/<ns>/<name>" in any hierarchy of
// /proc/<pid>/cgroup, or below it); empty when none.
std::string containerOf(const fs::path& pid_dir, std::string_view ns) {
  const std::string prefix = "/" + std::string(ns) + "/";
  for (const auto& path : readProcCgroups(pid_dir)) {
    if (path.rfind(prefix, 0) == 0) {
      const std::string rest = path.substr(prefix.size());
      return rest.substr(0, rest.find('/'));
    }
  }
  return "";
}

bool isRuntime(const fs::path& pid_dir) {
  std::error_code ec;
  const std::string exe = fs::read_symlink(pid_dir / "exe", ec).filename().string();
  return !ec && (exe == "runc" || exe == "crun");
}

}  // namespace

std::map<pid_t, std::vector<pid_t>> childrenOf(const fs::path& proc,
                                               const std::set<pid_t>& parents) {
  std::map<pid_t, std::vector<pid_t>> children;
  if (parents.empty()) {
    return children;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(proc, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    if (const pid_t parent = parentOf(entry.path()); parents.count(parent) != 0) {
      children[parent].push_back(static_cast<pid_t>(std::atoi(name.c_str())));
    }
  }
  return children;
}

bool servesOtherContainers(const fs::path& proc, const std::vector<pid_t>& children,
                           std::string_view ns, std::string_view id) {
  for (const pid_t child : children) {
    const fs::path pid_dir = proc / std::to_string(child);
    const std::string container = containerOf(pid_dir, ns);
    if (!container.empty() && container != id) {
      return true;  // another container's process
    }
    if (container.empty() && isRuntime(pid_dir)) {
      return true;  // a runtime not (yet) in the shim's own container: another Create
    }
  }
  return false;
}

}  // namespace contd::container
