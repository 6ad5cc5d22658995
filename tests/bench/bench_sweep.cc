#include "tests/bench/bench_sweep.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "modules/containerd/grpc_client.h"
#include "tests/bench/bench_proc.h"
#include "tests/bench/bench_util.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/run_command.h"

namespace contd::bench {

namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;

Status deleteRuncContainers(const std::string& ns, std::string_view program) {
  Status first = okStatus();
  std::error_code ec;
  const fs::path runc_root = fs::path("/run/containerd/runc") / ns;
  for (const auto& entry : fs::directory_iterator(runc_root, ec)) {
    if (!entry.is_directory(ec)) {
      continue;
    }
    const std::vector<std::string> argv = {"runc", "--root", runc_root.string(), "delete",
                                           "--force", entry.path().filename().string()};
    std::fprintf(stderr, "%.*s: cleanup: %s\n", static_cast<int>(program.size()),
                 program.data(), support::describeCommand(argv).c_str());
    keepFirst(first, commandSucceeded(argv, support::runCommand(argv, 30s)));
  }
  return first;
}

Status killShims(const std::string& containerd_socket, const std::string& ns,
                 std::string_view program) {
  Status first = okStatus();
  for (const pid_t pid : processIds()) {
    if (pid <= 1) {
      continue;
    }
    std::string cmdline = readFile("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("containerd-shim") == std::string::npos ||
        cmdline.find(" -namespace " + ns + " ") == std::string::npos ||
        cmdline.find(" -address " + containerd_socket) == std::string::npos) {
      continue;
    }
    std::fprintf(stderr, "%.*s: cleanup: SIGKILL to orphaned shim pid %d\n",
                 static_cast<int>(program.size()), program.data(), static_cast<int>(pid));
    if (::kill(pid, SIGKILL) != 0 && errno != ESRCH) {
      keepFirst(first, sysError("kill shim pid " + std::to_string(pid), errno));
    }
  }
  return first;
}

// runc delete can leave the container's own cgroups (/<ns>/<id>) behind, empty: rmdir them
// (it fails on a cgroup that still has processes or children). Killed processes leave
// their cgroup only once they are gone, hence a few tries.
void removeEmptyCgroups(const std::string& ns) {
  std::error_code ec;
  for (int attempt = 0; attempt < 20; ++attempt) {
    bool left = false;
    for (const auto& controller : fs::directory_iterator("/sys/fs/cgroup", ec)) {
      for (const auto& leaf : fs::directory_iterator(controller.path() / ns, ec)) {
        if (leaf.is_directory(ec) && ::rmdir(leaf.path().c_str()) != 0 && errno != ENOENT) {
          left = true;
        }
      }
    }
    if (!left) {
      return;
    }
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

void purgeNamespaces(const std::string& containerd_socket,
                     const std::vector<std::string>& namespaces, std::string_view program) {
  auto client = containerd::GrpcClient::connect(containerd_socket, 10s);
  for (const std::string& ns : namespaces) {
    const Status purged = client ? support::purgeNamespace(**client, ns) : Status(client.error());
    if (!purged) {
      std::fprintf(stderr, "%.*s: cleanup: purge of '%s': %s\n", static_cast<int>(program.size()),
                   program.data(), ns.c_str(), purged.error().message.c_str());
    }
  }
}

Status sweepOrphans(const std::string& containerd_socket, const std::string& ns,
                    std::string_view program) {
  Status first = deleteRuncContainers(ns, program);
  keepFirst(first, killShims(containerd_socket, ns, program));
  removeEmptyCgroups(ns);
  return first;
}

Status sweepNamespaces(const std::string& containerd_socket,
                       const std::vector<std::string>& namespaces, std::string_view program) {
  Status first = okStatus();
  for (const std::string& ns : namespaces) {
    keepFirst(first, sweepOrphans(containerd_socket, ns, program));
    keepFirst(first, support::removeHostLeftovers(ns));
  }
  return first;
}

}  // namespace contd::bench
