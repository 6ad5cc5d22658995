#include "modules/zbus/container_module.h"

#include <chrono>
#include <limits>

#include "modules/common/printable.h"
#include "modules/container/command_line.h"

namespace contd::zbus {
namespace {

// The spec mount types zosbase leaves out of Inspect's Mounts.
bool hiddenMountType(std::string_view type) {
  return type == "proc" || type == "tmpfs" || type == "devpts" || type == "mqueue" ||
         type == "sysfs";
}

// Go's filepath.Base for the paths that occur here (never "" or all slashes in practice).
std::string baseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string joinWithSpaces(const std::vector<std::string>& words) {
  std::string line;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) {
      line += ' ';
    }
    line += words[i];
  }
  return line;
}

}  // namespace

Result<container::ContainerSpec> ContainerModule::toSpec(const Container& data) {
  container::ContainerSpec spec;
  spec.name = data.name;
  spec.rootfs = data.root_fs;
  spec.entrypoint = data.entrypoint;
  if (data.interactive && data.entrypoint.empty()) {
    // zosbase starts an interactive container's own zinit.
    spec.argv = {"/sbin/zinit", "init"};
  }
  spec.env = data.env.value_or(std::vector<std::string>{});
  spec.working_dir = data.working_dir;
  spec.network_namespace = data.network_namespace;
  for (const auto& mount : data.mounts.value_or(std::vector<MountInfo>{})) {
    spec.mounts.push_back({.source = mount.source, .target = mount.target, .readonly = false});
  }
  spec.interactive = data.interactive;
  const std::uint64_t cpu = data.cpu == 0 ? kDefaultCpu : data.cpu;
  if (cpu > std::numeric_limits<std::uint32_t>::max()) {
    return invalidArgument("CPU: too large, got " + std::to_string(cpu));
  }
  spec.cpu = static_cast<std::uint32_t>(cpu);
  spec.memory_bytes = data.memory == 0 ? kDefaultMemoryBytes : data.memory;
  spec.elevated = data.elevated;
  spec.rootfs_propagation = data.root_fs_propagation;
  if (data.shutdown_timeout_ns < 0) {
    return invalidArgument("ShutdownTimeout: must not be negative, got " +
                           std::to_string(data.shutdown_timeout_ns) + "ns");
  }
  const std::int64_t timeout_ns =
      data.shutdown_timeout_ns == 0 ? kDefaultShutdownTimeoutNs : data.shutdown_timeout_ns;
  // Rounded up, so that a timeout under 1 ms does not become "the module's default".
  spec.shutdown_timeout = std::chrono::milliseconds(timeout_ns / 1'000'000 +
                                                    (timeout_ns % 1'000'000 != 0 ? 1 : 0));
  // Logs and Stats (redis sinks) are not supported: contd logs to files (docs/zbus.md).
  return spec;
}

Container ContainerModule::fromView(const ContainerView& view) {
  Container result;
  result.name = view.name;
  result.root_fs = view.rootfs;
  if (!view.process_env.empty()) {
    result.env = view.process_env;
  }
  result.entrypoint = joinWithSpaces(view.process_args);
  result.interactive = view.interactive;
  for (const auto& mount : view.mounts) {
    if (hiddenMountType(mount.type)) {
      continue;
    }
    if (!result.mounts) {
      result.mounts.emplace();
    }
    result.mounts->push_back({.source = mount.source, .target = mount.destination});
  }
  if (!view.netns_path.empty()) {
    result.network_namespace = baseName(view.netns_path);
  }
  result.created_at = GoTime::fromUnixNanos(view.created_at);
  return result;
}

Result<std::string> ContainerModule::run(const std::string& ns, const Container& data) {
  // zosbase's checks, in its order and with its words.
  if (data.root_fs.empty()) {
    return invalidArgument("RootFS of the container creation data cannot be empty");
  }
  if (data.network_namespace.empty()) {
    return invalidArgument("cannot create container without network namespace");
  }
  if (!data.interactive) {
    auto argv = container::splitCommandLine(data.entrypoint);
    if (!argv || argv->empty()) {
      // zosbase's words; the caller's entrypoint escaped and cut, not echoed whole.
      return invalidArgument("invalid entrypoint definition " + inQuotes(data.entrypoint));
    }
  }
  auto spec = toSpec(data);
  if (!spec) {
    return spec.error();
  }
  auto id = backend_.run(ns, *spec);
  if (!id) {
    return id.error();
  }
  return data.name;
}

Status ContainerModule::exec(const std::string& ns, const std::string& id,
                             std::int64_t timeout_ns, const std::vector<std::string>& args) {
  return backend_.exec(ns, id, std::chrono::nanoseconds(timeout_ns), args);
}

Result<GoSlice<std::string>> ContainerModule::listNS() {
  auto namespaces = backend_.listNamespaces();
  if (!namespaces) {
    return namespaces.error();
  }
  // Go's containerd client appends to a nil slice: no namespace at all is nil.
  if (namespaces->empty()) {
    return GoSlice<std::string>{};
  }
  return GoSlice<std::string>(std::move(*namespaces));
}

Result<GoSlice<std::string>> ContainerModule::list(const std::string& ns) {
  if (ns.empty()) {
    // What containerd answers for a call without a namespace.
    return failedPrecondition("namespace is required: failed precondition");
  }
  auto ids = backend_.list(ns);
  if (!ids) {
    return ids.error();
  }
  return GoSlice<std::string>(std::move(*ids));  // never nil: [] for an empty namespace
}

Result<Container> ContainerModule::inspect(const std::string& ns, const std::string& id) {
  auto view = backend_.inspect(ns, id);
  if (!view) {
    return view.error();
  }
  return fromView(*view);
}

Status ContainerModule::signalDelete(const std::string& ns, const std::string& id) {
  return backend_.signalDelete(ns, id);
}

Status ContainerModule::remove(const std::string& ns, const std::string& id) {
  return backend_.remove(ns, id);
}

Result<std::string> ContainerModule::logs(const std::string& ns, const std::string& id) {
  return backend_.logsTail(ns, id, kLogsTailLines);
}

}  // namespace contd::zbus
