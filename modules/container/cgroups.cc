#include "modules/container/cgroups.h"

#include <unistd.h>

#include <string>
#include <system_error>

namespace contd::container {

void removeEmptyCgroups(const std::filesystem::path& cgroup_root, std::string_view ns,
                        std::string_view id) {
  const std::string parent(ns);
  const std::string leaf = parent + "/" + std::string(id);
  std::error_code ec;
  for (const auto& path : {leaf, parent}) {
    (void)::rmdir((cgroup_root / path).c_str());  // cgroup v2: one hierarchy
    for (const auto& entry : std::filesystem::directory_iterator(cgroup_root, ec)) {
      if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
        (void)::rmdir((entry.path() / path).c_str());
      }
    }
  }
}

}  // namespace contd::container
