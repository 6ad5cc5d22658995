#include "tests/integration/support/leftovers.h"

#include <chrono>
#include <sstream>
#include <system_error>

#include <grpcpp/grpcpp.h>

#include "modules/common/proc_file.h"
#include "modules/container/stuck_logger.h"
#include "modules/containerd/grpc_connection.h"

namespace contd::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kCgroupRoot[] = "/sys/fs/cgroup";
constexpr char kRuncRoot[] = "/run/containerd/runc";
constexpr char kTaskDir[] = "io.containerd.runtime.v2.task";

// /proc files with read(2): a process that exits while it is read must not throw.
std::string readFile(const fs::path& path) { return readProcFile(path, 16 << 20); }

// Pids whose command line holds `needle` (NUL-separated arguments).
std::vector<std::string> pidsWithCmdline(const std::string& needle) {
  std::vector<std::string> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (readFile(entry.path() / "cmdline").find(needle) != std::string::npos) {
      pids.push_back(pid);
    }
  }
  return pids;
}

std::string shimNeedle(const std::string& ns) {
  return std::string("-namespace\0", 11) + ns + '\0';
}

// The namespace's cgroup dirs: v2's unified root and every v1 hierarchy.
std::vector<fs::path> namespaceCgroups(const std::string& ns) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  if (fs::is_directory(fs::path(kCgroupRoot) / ns, ec)) dirs.push_back(fs::path(kCgroupRoot) / ns);
  for (const auto& controller : fs::directory_iterator(kCgroupRoot, ec)) {
    std::error_code dir_ec;
    if (fs::is_directory(controller.path() / ns, dir_ec)) dirs.push_back(controller.path() / ns);
  }
  return dirs;
}

// " <label>(a b c)" for the subdirectories of `dir`, "" when it has none or does not exist.
std::string childDirs(const fs::path& dir, const std::string& label) {
  std::string names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code dir_ec;
    if (entry.is_directory(dir_ec)) {
      names += (names.empty() ? "" : " ") + entry.path().filename().string();
    }
  }
  return names.empty() ? "" : " " + label + "(" + names + ")";
}

// Snapshots of `ns` in `snapshotter`; " snapshots/<snapshotter>(keys)" or the error.
std::string snapshots(containerd::GrpcClient& client, const std::string& ns,
                      const std::string& snapshotter) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("containerd-namespace", ns);
  ::containerd::services::snapshots::v1::ListSnapshotsRequest request;
  request.set_snapshotter(snapshotter);
  auto reader = client.connection()->snapshots->List(&context, request);
  ::containerd::services::snapshots::v1::ListSnapshotsResponse response;
  std::string keys;
  while (reader->Read(&response)) {
    for (const auto& info : response.info()) keys += (keys.empty() ? "" : " ") + info.name();
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return " snapshots/" + snapshotter + "(error: " + status.error_message() + ")";
  return keys.empty() ? "" : " snapshots/" + snapshotter + "(" + keys + ")";
}

// The number after `field` (e.g. "VmRSS:") in /proc/<pid>/status, or -1.
long statusNumber(pid_t pid, const std::string& field) {
  std::istringstream lines(readFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(field)) return std::stol(line.substr(field.size()));
  }
  return -1;
}

}  // namespace

std::string containerLeftovers(const LeftoverScope& scope, const std::string& name) {
  std::string left;
  if (scope.client->getContainer(scope.ns, name)) left += " record";
  if (scope.client->getTask(scope.ns, name)) left += " task";
  for (const auto& pid : pidsWithCmdline(shimNeedle(scope.ns) + "-id" + '\0' + name + '\0')) {
    left += " shim(" + pid + ")";
  }
  if (!container::findLoggers(scope.log_shim, scope.ns, name).empty()) left += " log-driver";
  std::error_code ec;
  if (fs::exists(scope.containerd_state / kTaskDir / scope.ns / name, ec)) left += " bundle";
  if (fs::exists(fs::path(kRuncRoot) / scope.ns / name, ec)) left += " runc-state";
  for (const auto& dir : namespaceCgroups(scope.ns)) {
    if (fs::exists(dir / name, ec)) left += " cgroup(" + dir.string() + "/" + name + ")";
  }
  return left;
}

std::string namespaceLeftovers(const LeftoverScope& scope,
                               const std::vector<fs::path>& mount_roots) {
  std::string left;
  auto& client = *scope.client;
  if (auto containers = client.listContainers(scope.ns, {}); !containers) {
    left += " containers(error: " + containers.error().message + ")";
  } else {
    for (const auto& record : *containers) left += " container(" + record.id + ")";
  }
  if (auto tasks = client.listTasks(scope.ns); !tasks) {
    left += " tasks(error: " + tasks.error().message + ")";
  } else {
    for (const auto& task : *tasks) left += " task(" + task.id + ")";
  }
  for (const char* snapshotter : {"overlayfs", "native"}) {
    left += snapshots(client, scope.ns, snapshotter);
  }
  for (const auto& pid : pidsWithCmdline(shimNeedle(scope.ns))) left += " shim(" + pid + ")";
  for (const auto& logger : container::findAllLoggers(scope.log_shim)) {
    if (logger.ns == scope.ns) {
      left += " log-driver(" + std::to_string(logger.pid) + " " + logger.id + ")";
    }
  }
  const fs::path bundles = scope.containerd_state / kTaskDir / scope.ns;
  left += childDirs(bundles, "bundles");
  left += childDirs(fs::path(kRuncRoot) / scope.ns, "runc-state");
  for (const auto& dir : namespaceCgroups(scope.ns)) {
    left += childDirs(dir, "cgroup " + dir.string());
  }
  std::vector<fs::path> roots = mount_roots;
  roots.push_back(bundles);
  for (const auto& root : roots) {
    for (const auto& mount : mountsUnder(root)) left += " mount(" + mount + ")";
  }
  return left;
}

std::vector<std::string> mountsUnder(const fs::path& root) {
  std::vector<std::string> found;
  const std::string prefix = root.lexically_normal().string();
  std::istringstream lines(readFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(lines, line)) {
    // id parent major:minor root mount-point ...
    std::istringstream fields(line);
    std::string id, parent, dev, mount_root, mount_point;
    fields >> id >> parent >> dev >> mount_root >> mount_point;
    if (mount_point == prefix || mount_point.starts_with(prefix + "/")) {
      found.push_back(mount_point);
    }
  }
  return found;
}

int openFdCount(pid_t pid) {
  std::error_code ec;
  int count = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++count;
  }
  return ec ? -1 : count;
}

long residentKiB(pid_t pid) { return statusNumber(pid, "VmRSS:"); }

long threadCount(pid_t pid) { return statusNumber(pid, "Threads:"); }

}  // namespace contd::testing
