#pragma once
// Which OCI runtime the runc shim runs for a container's tasks, and whether containers share
// a shim (docs/configuration.md keys `runtime` and `shim_group`, docs/benchmarks.md for what
// each costs). Chosen when a container is Run and kept in its containerd record: the runtime
// in the record's runtime options (binary_name), the group in its OCI spec's annotations.
// A restart or Start of the container uses what its record says, whatever the daemon's
// choice is now; a changed choice applies to containers Run afterwards.

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "modules/common/result.h"
#include "modules/containerd/client.h"
#include "modules/seccomp/bpf.h"

namespace contd::container {

enum class ShimGroup {
  kNone,       // a shim per container (containerd's default)
  kNamespace,  // one shim per containerd namespace: its containers share its process
};

struct RuntimeChoice {
  std::string runtime = "runc";  // "runc", "crun", or an absolute path of an OCI runtime
  ShimGroup shim_group = ShimGroup::kNone;
  // With crun: the seccomp filter compiled once by contd and handed over (crun then skips
  // its own compilation per container); false leaves the compiling to crun.
  bool precompile_seccomp = true;
};

// The runc shim groups the containers whose specs carry the same value of this annotation
// under one shim process (runtime/v2/runc/manager).
inline constexpr char kShimGroupAnnotation[] = "io.containerd.runc.v2.group";

std::string_view shimGroupName(ShimGroup group);  // "none", "namespace"

// What a config value names; an error naming `field` otherwise.
Result<ShimGroup> parseShimGroup(std::string_view text, std::string_view field);
Status checkRuntimeName(std::string_view text, std::string_view field);

// The runtime a host can run for `wanted`: its binary found (a name in PATH, a path
// executable), else an error naming the key `runtime`. crun 1.8 refuses a cgroup v1 host
// whose unified hierarchy (<cgroup_root>/unified) holds a controller ("cgroups in hybrid
// mode not supported"): then the choice falls back to runc and `*warning` says why.
Result<RuntimeChoice> usableRuntime(RuntimeChoice wanted, const std::filesystem::path& cgroup_root,
                                    std::string* warning);

// The controllers a hybrid host's unified hierarchy holds ("" when none, or not hybrid).
std::string unifiedControllers(const std::filesystem::path& cgroup_root);

// The record and spec of a container Run with `choice` in namespace `ns`. With crun (and
// choice.precompile_seccomp), a spec with linux.seccomp also gets the filter precompiled (seccomp/bpf.h, from `bpf`);
// when that fails crun compiles it as usual and `*warning` says why.
void applyRuntimeChoice(const RuntimeChoice& choice, std::string_view ns,
                        containerd::ContainerRecord& record, nlohmann::json& runtime_spec,
                        seccomp::BpfCache* bpf = nullptr, std::string* warning = nullptr);

// What a record says its container runs with: the runtime ("runc" when the record names
// none) and the shim group.
std::string runtimeOf(const containerd::ContainerRecord& record);
ShimGroup shimGroupOf(const nlohmann::json& runtime_spec);

}  // namespace contd::container
