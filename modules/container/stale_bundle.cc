#include "modules/container/stale_bundle.h"

#include <string>
#include <vector>

#include "modules/common/logging.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kShimError = "failed to start shim: mkdir ";
constexpr std::string_view kExists = ": file exists";

// The state dir of a bundle path that has the task bundle shape, whatever its ns and id.
std::optional<fs::path> stateDirOf(const fs::path& bundle) {
  const fs::path ns_dir = bundle.parent_path();
  const fs::path tasks_dir = ns_dir.parent_path();
  if (tasks_dir.filename() != kTaskBundleDir ||
      !isTaskBundlePath(bundle, ns_dir.filename().string(), bundle.filename().string())) {
    return std::nullopt;
  }
  return tasks_dir.parent_path();
}

}  // namespace

bool isTaskBundlePath(const fs::path& path, std::string_view ns, std::string_view id) {
  const std::string text = path.native();
  if (ns.empty() || id.empty() || !path.is_absolute() || text.back() == '/' ||
      text.find("//") != std::string::npos) {
    return false;
  }
  std::vector<std::string> parts;
  for (const auto& part : path.relative_path()) {
    const std::string name = part.string();
    if (name.empty() || name == "." || name == "..") {
      return false;
    }
    parts.push_back(name);
  }
  const std::size_t n = parts.size();
  return n >= 4 && parts[n - 3] == kTaskBundleDir && parts[n - 2] == ns && parts[n - 1] == id;
}

std::optional<fs::path> staleBundleOf(const Error& error, std::string_view ns,
                                      std::string_view id) {
  if (error.code != Code::kUnknown) {
    return std::nullopt;
  }
  const std::string& message = error.message;
  const auto start = message.find(kShimError);
  if (start == std::string::npos || message.size() < kExists.size() ||
      message.compare(message.size() - kExists.size(), kExists.size(), kExists) != 0) {
    return std::nullopt;
  }
  const auto from = start + kShimError.size();
  const auto to = message.size() - kExists.size();
  if (to <= from) {
    return std::nullopt;
  }
  fs::path bundle(message.substr(from, to - from));
  if (!isTaskBundlePath(bundle, ns, id)) {
    return std::nullopt;
  }
  return bundle;
}

Status clearStaleBundle(ShimHost& host, std::string_view ns, std::string_view id,
                        const fs::path& bundle) {
  if (!isTaskBundlePath(bundle, ns, id)) {
    return failedPrecondition("'" + bundle.string() + "' is no bundle path of '" +
                              std::string(id) + "' in '" + std::string(ns) + "'");
  }
  const auto state_dir = stateDirOf(bundle);
  for (const auto& shim : host.shims()) {
    if ((shim.ns == ns && shim.id == id) || shim.bundle == bundle) {
      return failedPrecondition("bundle " + bundle.string() + " has a live shim (pid " +
                                std::to_string(shim.pid) + ")");
    }
    // The shims found serve contd's containerd: their bundles show its state dir.
    auto shim_state = stateDirOf(shim.bundle);
    if (shim_state && state_dir && *shim_state != *state_dir) {
      return failedPrecondition("bundle " + bundle.string() + " is not in containerd's state dir " +
                                shim_state->string() + " (shim pid " +
                                std::to_string(shim.pid) + ")");
    }
  }
  log::container()->warn("removing stale bundle ns={} id={} bundle={}", ns, id, bundle.string());
  if (auto removed = host.removeBundle(ns, id, bundle); !removed) {
    return removed.error().wrap("remove the stale bundle of '" + std::string(id) + "'");
  }
  return okStatus();
}

}  // namespace contd::container
