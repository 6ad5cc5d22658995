#pragma once
// Builds the OCI runtime spec (config.json, as nlohmann::json) that containerd hands to
// runc for a ContainerSpec. The defaults follow containerd's default unix spec
// (oci/spec.go populateDefaultUnixSpec), minus its /run tmpfs (as the Zero-OS module did),
// plus the limits, netns and mounts of the request. Any thread.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/common/record_schema.h"
#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/container/defaults.h"
#include "modules/container/user_lookup.h"
#include "modules/container/validation.h"

namespace contd::container {

inline constexpr char kOciVersion[] = "1.0.2-dev";

// The module-wide knobs the spec depends on. The service fills it from ServiceOptions
// (kept apart so this header does not pull in the service and the containerd client).
struct SpecOptions {
  std::filesystem::path resolv_conf = "/etc/resolv.conf";  // bound read-only when it exists
  std::int64_t default_pids_limit = kDefaultPidsLimit;  // for pids_limit 0
  // The daemon's profile (seccomp::loadProfile's json, which may hold contd's capability
  // conditions), used for containers whose `seccomp` is "" or "default"; none when unset.
  std::optional<nlohmann::json> seccomp_profile;
};

// The runtime spec for the checked request `valid` (validateSpec). The caller has filled
// module defaults it wants recorded (shutdown_timeout) before validation. The filesystem
// accesses are whether options.resolv_conf exists and reading the profile a `seccomp` path
// names.
// linux.seccomp: the profile `spec.seccomp` selects, rendered for the container's
// capabilities (seccomp::forCapabilities); none for "unconfined" (logged as a warning).
// Syscall names libseccomp does not know are left out and logged as a warning.
// process.user: `user` as given ({uid, gid}, plus additionalGids when there are any); the
// caller resolves valid.user to it beforehand (resolveUser, user_lookup.h): spec.user is
// only stored here, never looked up, and the default is root (0:0).
// Annotations: kSpecAnnotation (record_schema.h) holds toJson(spec) dumped, so the request can be
// read back from containerd; kShutdownTimeoutAnnotation the shutdown timeout in ms.
// Errors (kInvalidArgument): a seccomp profile file that cannot be read or is not a valid
// profile ("seccomp: ...").
Result<nlohmann::json> buildRuntimeSpec(const ValidSpec& valid, const SpecOptions& options,
                                        const ProcessUser& user = ProcessUser{});

// Update's new record spec: `runtime` (a spec buildRuntimeSpec made, as stored) with the
// limits `changed` names taken from `spec` (the stored ContainerSpec with the update
// applied) into linux.resources exactly as buildRuntimeSpec puts them (pids_limit 0:
// `default_pids_limit`), and kSpecAnnotation rewritten to `spec`. Every other part, limits
// not named included, stays as stored. kInternal when `runtime` lacks linux.resources or
// annotations.
Result<nlohmann::json> withLimits(const nlohmann::json& runtime, const ContainerSpec& spec,
                                  const LimitsUpdate& changed, std::int64_t default_pids_limit);

// The cgroup limits of `runtime` as tasks.Update gives them to `runc update`: an object with
// the members memory, cpu and pids of its linux.resources, a limit that is off written as -1.
// runc update leaves a limit it is not given as it is, so these are always all given (and
// devices never: runc update does not change them). kInternal when `runtime` has no
// linux.resources.
Result<nlohmann::json> liveLimits(const nlohmann::json& runtime);

// The capability set (bounding = effective = permitted) of a container: containerd's
// default set, plus CAP_SYS_ADMIN when elevated. Documented in docs/security.md.
std::vector<std::string> capabilitySet(bool elevated);

}  // namespace contd::container
