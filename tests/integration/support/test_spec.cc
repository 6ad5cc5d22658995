#include "tests/integration/support/test_spec.h"

#include <nlohmann/json.hpp>

namespace contd::testing {

std::string testSpecJson(const TestSpec& spec) {
  using nlohmann::json;
  json namespaces =
      json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
  if (!spec.netns_path.empty()) {
    namespaces.push_back({{"type", "network"}, {"path", spec.netns_path}});
  }
  json doc = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", spec.args},
        {"env", spec.env},
        {"cwd", "/"},
        {"noNewPrivileges", true}}},
      {"root", {{"path", spec.rootfs}, {"readonly", false}}},
      {"hostname", spec.hostname},
      {"mounts",
       json::array({{{"destination", "/proc"},
                     {"type", "proc"},
                     {"source", "proc"},
                     {"options", {"nosuid", "noexec", "nodev"}}},
                    {{"destination", "/dev"},
                     {"type", "tmpfs"},
                     {"source", "tmpfs"},
                     {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}}})},
      {"linux",
       {{"namespaces", namespaces},
        {"resources", {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}}},
        {"maskedPaths", {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"}},
        {"readonlyPaths", {"/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  if (!spec.cgroups_path.empty()) {
    doc["linux"]["cgroupsPath"] = spec.cgroups_path;
  }
  if (spec.memory_limit_bytes) {
    doc["linux"]["resources"]["memory"] = {{"limit", *spec.memory_limit_bytes}};
  }
  return doc.dump();
}

std::string testProcessJson(const std::vector<std::string>& args) {
  const nlohmann::json process = {{"terminal", false},
                                  {"user", {{"uid", 0}, {"gid", 0}}},
                                  {"args", args},
                                  {"env", {"PATH=/bin"}},
                                  {"cwd", "/"},
                                  {"noNewPrivileges", true}};
  return process.dump();
}

}  // namespace contd::testing
