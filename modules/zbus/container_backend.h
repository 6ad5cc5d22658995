#pragma once
// What the zbus bridge needs from the container core, in contd's words. The zbus layer
// (ContainerModule) implements zosbase's semantics on top of it; ServiceBackend implements
// it over ContainerService; unit tests implement it with a fake.
//
// Thread-safety: implementations are called from every zbus worker at once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/container/container_spec.h"

namespace contd::zbus {

// One mount of the runtime spec the container actually got.
struct RuntimeMount {
  std::string source;
  std::string destination;
  std::string type;  // "proc", "tmpfs", "bind", ...
  bool operator==(const RuntimeMount&) const = default;
};

// What Inspect reports over zbus: the container as it really runs (the process env with
// any default the spec builder added, the resolved argv, every mount of the spec).
struct ContainerView {
  std::string name;
  std::string rootfs;
  std::vector<std::string> process_env;
  std::vector<std::string> process_args;
  bool interactive = false;
  std::vector<RuntimeMount> mounts;
  std::string netns_path;  // the network namespace file it joined
  container::UnixNanos created_at = 0;
  bool operator==(const ContainerView&) const = default;
};

class ContainerBackend {
public:
  virtual ~ContainerBackend() = default;

  // Validates and starts the container; returns its id. Errors as ContainerService::run.
  virtual Result<std::string> run(std::string_view ns, const container::ContainerSpec& spec) = 0;
  // kNotFound with `container "<id>" in namespace "<ns>": not found` for an unknown id.
  virtual Result<ContainerView> inspect(std::string_view ns, std::string_view id) = 0;
  // SIGTERM, timeout, SIGKILL, remove. kNotFound for an unknown id.
  virtual Status remove(std::string_view ns, std::string_view id) = 0;
  // SIGTERM without waiting; an unknown id is not an error.
  virtual Status signalDelete(std::string_view ns, std::string_view id) = 0;
  // Ids of the containers of `ns` (non-empty); empty for an unknown namespace.
  virtual Result<std::vector<std::string>> list(std::string_view ns) = 0;
  virtual Result<std::vector<std::string>> listNamespaces() = 0;
  // Runs `args` in the container and waits up to `timeout`; output is discarded.
  virtual Status exec(std::string_view ns, std::string_view id, std::chrono::nanoseconds timeout,
                      const std::vector<std::string>& args) = 0;
  // The last `lines` lines of the container's output as plain text.
  virtual Result<std::string> logsTail(std::string_view ns, std::string_view id,
                                       std::size_t lines) = 0;
};

}  // namespace contd::zbus
