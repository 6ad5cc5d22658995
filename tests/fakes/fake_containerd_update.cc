// FakeContainerd's record spec and task resource updates (see the header).

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "modules/common/names.h"
#include "tests/fakes/fake_containerd.h"

namespace contd::testing {
namespace {

Error notThere(std::string_view what, std::string_view ns, std::string_view id) {
  return notFound(std::string(what) + " \"" + std::string(id) + "\" in namespace \"" +
                  std::string(ns) + "\": not found");
}

// runc's refusal on cgroup v1, where the kernel answers EBUSY when it cannot reclaim
// enough (libcontainer/cgroups/fs/memory.go), as containerd passes it on: runc's output,
// newline included, after the shim's words.
Error belowUsage(std::int64_t limit, const containerd::TaskMetrics& metrics) {
  return makeError(Code::kUnknown,
                   "runc did not terminate successfully: exit status 1: unable to set memory "
                   "limit to " + std::to_string(limit) + " (current usage: " +
                       std::to_string(metrics.memory_usage_bytes) + ", peak usage: " +
                       std::to_string(metrics.memory_max_usage_bytes) + ")\n");
}

}  // namespace

Status FakeContainerd::setSpec(std::string_view ns, std::string_view id,
                               std::string_view spec_json) {
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("setSpec")) {
    return *failure;
  }
  auto it = containers_.find({std::string(ns), std::string(id)});
  if (it == containers_.end()) {
    return notThere("container", ns, id);
  }
  it->second.spec_json = std::string(spec_json);
  return okStatus();
}

Status FakeContainerd::updateTask(std::string_view ns, std::string_view id,
                                  std::string_view resources_json) {
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("updateTask")) {
    return *failure;
  }
  const Key key{std::string(ns), std::string(id)};
  auto it = tasks_.find(key);
  if (it == tasks_.end() || it->second.stranded) {
    return notThere("task", ns, id);
  }
  if (it->second.state.status == containerd::TaskStatus::kStopped) {
    return makeError(Code::kUnknown, "cannot update a stopped container");
  }
  const auto resources = nlohmann::json::parse(resources_json, nullptr, false);
  if (!resources.is_object()) {
    return makeError(Code::kUnknown, "invalid character in resources");
  }
  const auto metrics = metrics_.find(key);
  const auto limit = resources.value("/memory/limit"_json_pointer, std::int64_t{0});
  if (metrics != metrics_.end() && limit > 0 &&
      static_cast<std::uint64_t>(limit) < metrics->second.memory_usage_bytes) {
    return belowUsage(limit, metrics->second);
  }
  it->second.updates.emplace_back(resources_json);
  return okStatus();
}

std::vector<std::string> FakeContainerd::taskUpdates(const std::string& ns,
                                                     const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find({ns, id});
  return it == tasks_.end() ? std::vector<std::string>{} : it->second.updates;
}

}  // namespace contd::testing
