#include "tests/integration/support/require.h"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/run_command.h"

namespace contd::testing {

bool isCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

std::string missingContainerdPrerequisites() {
  std::string missing;
  auto add = [&](std::string_view what) {
    if (!missing.empty()) {
      missing += ", ";
    }
    missing += what;
  };
  if (::geteuid() != 0) {
    add("root (geteuid()==0)");
  }
  for (const char* program : {"containerd", "containerd-shim-runc-v2", "runc", "ip"}) {
    if (!findOnPath(program)) {
      add(std::string(program) + " on PATH");
    }
  }
  if (auto busybox = checkStaticBusybox(kDefaultBusybox); !busybox) {
    add(busybox.error().message);
  }
  if (missing.empty()) {
    return missing;
  }
  return "needs " + missing;
}

std::string missingRedisPrerequisites() {
  return findOnPath("redis-server") ? "" : "needs redis-server on PATH (package redis-server)";
}

}  // namespace contd::testing
