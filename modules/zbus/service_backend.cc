#include "modules/zbus/service_backend.h"

#include <algorithm>
#include <exception>

#include <nlohmann/json.hpp>

namespace contd::zbus {
namespace {

using nlohmann::json;

// Reads the parts of an OCI runtime spec Inspect reports. nlohmann throws on a wrong type:
// caught here, as the spec is contd's own output and a mismatch is an internal error.
Status fillFromRuntimeSpec(const json& spec, ContainerView& view) {
  try {
    view.rootfs = spec.at("root").at("path").get<std::string>();
    const json& process = spec.at("process");
    view.process_env = process.value("env", std::vector<std::string>{});
    view.process_args = process.value("args", std::vector<std::string>{});
    view.mounts.clear();
    for (const auto& mount : spec.value("mounts", json::array())) {
      view.mounts.push_back({.source = mount.value("source", ""),
                             .destination = mount.value("destination", ""),
                             .type = mount.value("type", "")});
    }
    for (const auto& ns : spec.at("linux").value("namespaces", json::array())) {
      if (ns.value("type", "") == "network") {
        view.netns_path = ns.value("path", "");
        break;
      }
    }
  } catch (const std::exception& e) {
    return internalError(std::string("read runtime spec: ") + e.what());
  }
  return okStatus();
}

}  // namespace

Result<std::string> ServiceBackend::run(std::string_view ns, const container::ContainerSpec& spec) {
  return service_.run(ns, spec);
}

Result<ContainerView> ServiceBackend::inspect(std::string_view ns, std::string_view id) {
  // One read of the record for both: the spec as given and what the container really got
  // (process env with PATH, every mount), as containerd keeps it.
  auto inspected = service_.inspectWithRuntimeSpec(ns, id);
  if (!inspected) {
    return inspected.error();
  }
  ContainerView view;
  view.name = inspected->info.spec.name;
  view.interactive = inspected->info.spec.interactive;
  view.created_at = inspected->info.created_at;
  CONTD_RETURN_IF_ERROR(fillFromRuntimeSpec(inspected->runtime_spec, view));
  return view;
}

Status ServiceBackend::remove(std::string_view ns, std::string_view id) {
  return service_.remove(ns, id);
}

Status ServiceBackend::signalDelete(std::string_view ns, std::string_view id) {
  return service_.signalDelete(ns, id);
}

Result<std::vector<std::string>> ServiceBackend::list(std::string_view ns) {
  auto containers = service_.list(ns);
  if (!containers) {
    return containers.error();
  }
  std::vector<std::string> ids;
  for (const auto& info : *containers) {
    ids.push_back(info.spec.name);
  }
  std::sort(ids.begin(), ids.end());  // containerd's order, whatever the core's
  return ids;
}

Result<std::vector<std::string>> ServiceBackend::listNamespaces() {
  return service_.listNamespaces();
}

Status ServiceBackend::exec(std::string_view ns, std::string_view id,
                            std::chrono::nanoseconds timeout,
                            const std::vector<std::string>& args) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  if (ms.count() <= 0) {
    ms = std::chrono::milliseconds(1);  // a zero Go timeout expires at once
  }
  // Past the module's bound (up to ~292 years in ns) the core refuses it, naming the bound.
  auto result = service_.exec(ns, id, args, ms);
  if (!result) {
    return result.error();
  }
  // zosbase's wording: the output is discarded.
  if (result->timed_out) {
    return makeError(Code::kDeadlineExceeded, "execution timed out");
  }
  if (result->exit_code != 0) {
    return makeError(Code::kUnknown, "non-zero exit code: " + std::to_string(result->exit_code));
  }
  return okStatus();
}

std::string logsText(const std::vector<container::LogLine>& lines) {
  std::string text;
  for (const auto& line : lines) {
    text += line.text;
    if (line.complete) {
      text += '\n';
    }
  }
  return text;
}

Result<std::string> ServiceBackend::logsTail(std::string_view ns, std::string_view id,
                                             std::size_t lines) {
  // The core's tail 0 means "all"; zbus's 0 means none.
  auto log = service_.logs(ns, id, container::LogQuery{.tail = std::max<std::size_t>(lines, 1)});
  if (!log) {
    return log.error();
  }
  return lines == 0 ? std::string() : logsText(*log);
}

}  // namespace contd::zbus
