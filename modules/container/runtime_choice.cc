#include "modules/container/runtime_choice.h"

#include <unistd.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "modules/common/proc_file.h"

namespace contd::container {

namespace fs = std::filesystem;

namespace {

constexpr char kRunc[] = "runc";
constexpr char kCrun[] = "crun";

bool executableFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// Where the shim would find `name`: the first PATH entry holding it (go-runc looks the
// binary up in PATH as exec.LookPath does).
std::optional<fs::path> inPath(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    if (!dir.empty() && executableFile(fs::path(dir) / name)) {
      return fs::path(dir) / name;
    }
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
  return std::nullopt;
}

bool isCrun(std::string_view runtime) {
  return fs::path(runtime).filename() == kCrun;
}

}  // namespace

std::string_view shimGroupName(ShimGroup group) {
  return group == ShimGroup::kNamespace ? "namespace" : "none";
}

Result<ShimGroup> parseShimGroup(std::string_view text, std::string_view field) {
  if (text == "none") {
    return ShimGroup::kNone;
  }
  if (text == "namespace") {
    return ShimGroup::kNamespace;
  }
  return invalidArgument(std::string(field) + ": expected \"none\" or \"namespace\", got \"" +
                         std::string(text) + "\"");
}

Status checkRuntimeName(std::string_view text, std::string_view field) {
  if (text == kRunc || text == kCrun ||
      (!text.empty() && text.front() == '/' && text.find('\0') == std::string_view::npos)) {
    return okStatus();
  }
  return invalidArgument(std::string(field) +
                         ": expected \"runc\", \"crun\" or an absolute path, got \"" +
                         std::string(text) + "\"");
}

std::string unifiedControllers(const fs::path& cgroup_root) {
  // Hybrid: a cgroup v1 host (no cgroup.controllers at the root) with cgroup2 mounted at
  // <root>/unified. Whatever that hierarchy lists is a controller crun 1.8 cannot place.
  std::error_code ec;
  if (fs::exists(cgroup_root / "cgroup.controllers", ec)) {
    return "";  // cgroup v2 only
  }
  std::string controllers = readProcFile(cgroup_root / "unified" / "cgroup.controllers", 4096);
  while (!controllers.empty() && (controllers.back() == '\n' || controllers.back() == ' ')) {
    controllers.pop_back();
  }
  return controllers;
}

Result<RuntimeChoice> usableRuntime(RuntimeChoice wanted, const fs::path& cgroup_root,
                                    std::string* warning) {
  CONTD_RETURN_IF_ERROR(checkRuntimeName(wanted.runtime, "runtime"));
  const bool found = wanted.runtime.front() == '/' ? executableFile(wanted.runtime)
                                                  : inPath(wanted.runtime).has_value();
  if (!found) {
    return failedPrecondition("runtime \"" + wanted.runtime + "\": " +
                              (wanted.runtime.front() == '/' ? "not an executable file"
                                                             : "not found in PATH") +
                              " (config key runtime)");
  }
  if (isCrun(wanted.runtime)) {
    if (std::string held = unifiedControllers(cgroup_root); !held.empty()) {
      if (warning != nullptr) {
        *warning = "runtime \"" + wanted.runtime + "\" cannot run containers on this host: " +
                   "its cgroup v1 layout is hybrid and the unified hierarchy holds the " +
                   "controller(s) \"" + held + "\" (" +
                   (cgroup_root / "unified" / "cgroup.controllers").string() +
                   "), which crun refuses; containers run with runc instead";
      }
      wanted.runtime = kRunc;
    }
  }
  return wanted;
}

void applyRuntimeChoice(const RuntimeChoice& choice, std::string_view ns,
                        containerd::ContainerRecord& record, nlohmann::json& runtime_spec,
                        seccomp::BpfCache* bpf, std::string* warning) {
  record.runtime_binary = choice.runtime == kRunc ? std::string() : choice.runtime;
  if (choice.shim_group == ShimGroup::kNamespace) {
    runtime_spec["annotations"][kShimGroupAnnotation] = std::string(ns);
  }
  const auto linux = runtime_spec.find("linux");
  if (bpf == nullptr || !choice.precompile_seccomp || !isCrun(choice.runtime) ||
      linux == runtime_spec.end() ||
      !linux->contains("seccomp")) {
    return;
  }
  auto encoded = bpf->base64For((*linux)["seccomp"]);
  if (!encoded) {
    if (warning != nullptr) {
      *warning = "seccomp filter not precompiled (crun compiles it): " + encoded.error().message;
    }
    return;
  }
  runtime_spec["annotations"][seccomp::kBpfAnnotation] = std::move(*encoded);
}

std::string runtimeOf(const containerd::ContainerRecord& record) {
  return record.runtime_binary.empty() ? std::string(kRunc) : record.runtime_binary;
}

ShimGroup shimGroupOf(const nlohmann::json& runtime_spec) {
  const auto annotations = runtime_spec.find("annotations");
  return annotations != runtime_spec.end() && annotations->is_object() &&
                 annotations->contains(kShimGroupAnnotation)
             ? ShimGroup::kNamespace
             : ShimGroup::kNone;
}

}  // namespace contd::container
