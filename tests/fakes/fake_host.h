#pragma once
// A host folder for unit tests of the container module, which run without root, runc or
// network namespaces: <dir>/rootfs holds executable stand-ins for the programs the tests
// name (validation looks the program up in a directory rootfs), <dir>/netns/net1 is a
// regular file standing in for a network namespace, and the options accept it.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "modules/container/service.h"
#include "modules/container/validation.h"

namespace contd::testing {

// Creates <dir>/rootfs with /bin/{sh,true,sleep,echo,server}, /usr/bin/env and
// /usr/sbin/nginx (empty files, mode 0755), and <dir>/netns/net1.
inline void makeFakeHost(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  for (std::string_view program : {"/bin/sh", "/bin/true", "/bin/sleep", "/bin/echo",
                                   "/bin/server", "/usr/bin/env", "/usr/sbin/nginx"}) {
    const fs::path path = dir / "rootfs" / fs::path(program).relative_path();
    fs::create_directories(path.parent_path());
    std::ofstream(path).put('\n');
    fs::permissions(path, fs::perms(0755));
  }
  fs::create_directories(dir / "netns");
  std::ofstream(dir / "netns" / "net1").put('x');
}

// A container of the fake host that validation accepts: `name`, the fake rootfs, a shell
// that sleeps, the netns net1.
inline container::ContainerSpec fakeHostSpec(const std::filesystem::path& dir,
                                             const std::string& name) {
  container::ContainerSpec spec;
  spec.name = name;
  spec.rootfs = (dir / "rootfs").string();
  spec.entrypoint = "/bin/sh -c 'sleep 1000'";
  spec.network_namespace = "net1";
  return spec;
}

// Takes any existing file as a network namespace (the real check asks the kernel).
inline Status acceptAnyNetns(std::string_view, const std::filesystem::path&) { return okStatus(); }

// Service options on the fake host: logs, netns folder, cgroup root under `dir`.
inline container::ServiceOptions fakeHostOptions(const std::filesystem::path& dir) {
  container::ServiceOptions options;
  options.log_root = dir / "logs";
  options.netns_dir = dir / "netns";
  options.cgroup_root = dir / "cgroup";
  options.check_netns = acceptAnyNetns;
  return options;
}

inline container::ValidationEnv fakeHostValidationEnv(const std::filesystem::path& dir) {
  return {.netns_dir = dir / "netns", .check_netns = acceptAnyNetns};
}

}  // namespace contd::testing
