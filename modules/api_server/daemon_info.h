#pragma once
// What the Version and Info calls answer about the daemon itself, beside the container
// module's own state: the daemon (modules/daemon/daemon_info.h) knows containerd's client,
// the OCI runtime in effect and the configuration; the API server only asks.
//
// Threads: called from gRPC's threads, concurrently.

#include <cstdint>
#include <string>

#include "modules/common/result.h"

namespace contd::api {

struct VersionFacts {
  std::string version;              // contd's
  std::string containerd_version;   // "" when containerd did not answer
  std::string containerd_revision;
  std::string containerd_error;     // why containerd_version is empty
  std::string runtime;              // "runc", "crun" or a path
  std::string runtime_version;      // "" when `<runtime> --version` could not be read
  std::string runtime_error;
  std::string shim_group;           // "none" or "namespace"
};

class DaemonInfoSource {
public:
  virtual ~DaemonInfoSource() = default;
  // Never fails: what cannot be learnt is named in the *_error fields.
  virtual VersionFacts versions() = 0;
  // The configuration in effect, as JSON of the config file's shape.
  virtual std::string configJson() = 0;
  // Images in containerd, summed over its namespaces. Errors: containerd's.
  virtual Result<std::uint64_t> imageCount() = 0;
};

}  // namespace contd::api
