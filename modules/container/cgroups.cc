#include "modules/container/cgroups.h"

#include <unistd.h>

#include <system_error>

namespace contd::container {

CgroupParents::Creating::Creating(CgroupParents& parents, std::string_view ns)
    : parents_(parents), ns_(ns) {
  std::lock_guard lock(parents_.mu_);
  ++parents_.creating_[ns_];
}

CgroupParents::Creating::~Creating() {
  std::lock_guard lock(parents_.mu_);
  if (auto it = parents_.creating_.find(ns_); it != parents_.creating_.end() && --it->second == 0) {
    parents_.creating_.erase(it);
  }
}

void CgroupParents::removeEmpty(std::string_view ns, std::string_view id) {
  const std::string parent(ns);
  removeEverywhere(parent + "/" + std::string(id));
  // Under the lock: a create that starts now waits until the parent is gone (its runtime
  // then makes it anew), one that started first keeps it.
  std::lock_guard lock(mu_);
  if (creating_.find(parent) == creating_.end()) {
    removeEverywhere(parent);
  }
}

void CgroupParents::removeEverywhere(const std::string& path) const {
  (void)::rmdir((root_ / path).c_str());  // cgroup v2: one hierarchy
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
    if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
      (void)::rmdir((entry.path() / path).c_str());
    }
  }
}

}  // namespace contd::container
