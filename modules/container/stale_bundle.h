#pragma once
// The bundle directory containerd 1.6 leaves when it is killed inside tasks.Create after
// runtime/v2 NewBundle made <state>/io.containerd.runtime.v2.task/<ns>/<id> and before a
// shim started in it. No shim and no task know it, and until containerd restarts (its
// loadShims deletes such bundles) every tasks.Create of the name fails with UNKNOWN
// "failed to start shim: mkdir <bundle>: file exists" (os.Mkdir's EEXIST is no errdefs
// error). TaskControl removes it, under the name's lock, and creates once more.
//
// Thread-safety: free functions; the host must be safe to call from any thread.

#include <filesystem>
#include <optional>
#include <string_view>

#include "modules/common/result.h"
#include "modules/container/shim_host.h"

namespace contd::container {

// containerd 1.6's directory of v2 task bundles (runtime/v2: plugin.RuntimePluginV2 + ".task"),
// both under its state dir (bundles) and its root dir (work dirs).
inline constexpr std::string_view kTaskBundleDir = "io.containerd.runtime.v2.task";

// Whether `path` is exactly <absolute dir>/io.containerd.runtime.v2.task/<ns>/<id>: absolute,
// no "." or ".." component, no empty component, no trailing slash.
bool isTaskBundlePath(const std::filesystem::path& path, std::string_view ns,
                      std::string_view id);

// The bundle tasks.Create's `error` names when it is the "file exists" failure above for
// ns/id and the path has that shape; nullopt for any other error.
std::optional<std::filesystem::path> staleBundleOf(const Error& error, std::string_view ns,
                                                   std::string_view id);

// Removes `bundle` (see staleBundleOf) when nothing live uses it: no shim of ns/id runs,
// no shim has it as its bundle, and it lies in the same state dir as the bundles of the
// shims that run. Errors: kFailedPrecondition naming the shim or the mismatch (nothing is
// touched), or the host's removal error.
Status clearStaleBundle(ShimHost& host, std::string_view ns, std::string_view id,
                        const std::filesystem::path& bundle);

}  // namespace contd::container
