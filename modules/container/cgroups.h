#pragma once
// runc removes a container's own cgroup (/<ns>/<id>) but not the /<ns> parent it made, and a
// create that failed half-way can leave the leaf in some hierarchy too. This removes both
// where they are empty, in cgroup v2's single hierarchy and in every v1 hierarchy.
// rmdir only succeeds on an empty cgroup, so a sibling container is never disturbed.

#include <filesystem>
#include <string_view>

namespace contd::container {

void removeEmptyCgroups(const std::filesystem::path& cgroup_root, std::string_view ns,
                        std::string_view id);

}  // namespace contd::container
