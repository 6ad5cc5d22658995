#pragma once
// runc removes a container's own cgroup (/<ns>/<id>) but not the /<ns> parent it made, and a
// create that failed half-way can leave the leaf in some hierarchy too. CgroupParents removes
// both where they are empty, in cgroup v2's single hierarchy and in every v1 hierarchy.
// rmdir only succeeds on an empty cgroup, so a sibling container that runs is never
// disturbed; one being created is, between the runtime's mkdir of /<ns> and of /<ns>/<id>
// (its create then fails reading a file of the removed /<ns>). So the parent is left alone
// while a task of its namespace is being created.
//
// Thread-safety: every method may be called from any thread.

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace contd::container {

class CgroupParents {
public:
  explicit CgroupParents(std::filesystem::path cgroup_root) : root_(std::move(cgroup_root)) {}

  // Held while a task of `ns` is created (its runtime makes /<ns> and /<ns>/<id>).
  class Creating {
  public:
    Creating(CgroupParents& parents, std::string_view ns);
    ~Creating();
    Creating(const Creating&) = delete;
    Creating& operator=(const Creating&) = delete;

  private:
    CgroupParents& parents_;
    std::string ns_;
  };

  // Removes /<ns>/<id> where empty, then /<ns> where empty unless a task of `ns` is being
  // created.
  void removeEmpty(std::string_view ns, std::string_view id);

private:
  // rmdir of `path` (relative to the root) in every hierarchy.
  void removeEverywhere(const std::string& path) const;

  std::filesystem::path root_;
  std::mutex mu_;
  std::map<std::string, int, std::less<>> creating_;  // guarded by mu_
};

}  // namespace contd::container
