// The security defaults end to end (docs/security.md): the capability set a container
// really holds, elevated adding CAP_SYS_ADMIN only, the read-only rootfs, and the API
// socket refusing callers outside its owner and group.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "modules/common/logging.h"
#include "modules/container/service.h"
#include "modules/container/spec_builder.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/files.h"
#include "tests/integration/support/service_fixture.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using support::readFile;

// Waits until `path` exists and ends with "done\n"; returns its content.
std::string waitForDone(const fs::path& path) {
  return support::waitForFile(path, [](const std::string& text) { return text.ends_with("done\n"); });
}

// Bit numbers from linux/capability.h, for the names contd uses.
std::uint64_t capMask(const std::vector<std::string>& names) {
  static const std::map<std::string, int> kBits = {
      {"CAP_CHOWN", 0},        {"CAP_DAC_OVERRIDE", 1}, {"CAP_FOWNER", 3},
      {"CAP_FSETID", 4},       {"CAP_KILL", 5},         {"CAP_SETGID", 6},
      {"CAP_SETUID", 7},       {"CAP_SETPCAP", 8},      {"CAP_NET_BIND_SERVICE", 10},
      {"CAP_NET_RAW", 13},     {"CAP_SYS_CHROOT", 18},  {"CAP_SYS_ADMIN", 21},
      {"CAP_MKNOD", 27},       {"CAP_AUDIT_WRITE", 29}, {"CAP_SETFCAP", 31}};
  std::uint64_t mask = 0;
  for (const auto& name : names) {
    auto it = kBits.find(name);
    EXPECT_NE(it, kBits.end()) << name;
    if (it != kBits.end()) {
      mask |= std::uint64_t{1} << it->second;
    }
  }
  return mask;
}

// "CapEff:\t00000000a80425fb" -> the number.
std::optional<std::uint64_t> capField(const std::string& status, const std::string& field) {
  const auto at = status.find(field + ":\t");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(status.substr(at + field.size() + 2, 16), nullptr, 16);
}

class SecurityIT : public support::ServiceFixture {
protected:
  std::string runScript(ContainerSpec spec, const std::string& script) {
    const fs::path out = dir_->path() / spec.name;
    fs::create_directories(out);
    spec.rootfs = rootfs_->path().string();
    spec.argv = {"/bin/sh", "-c", "{ " + script + "; } > /out/result 2>&1; echo done >> /out/result"};
    spec.network_namespace = netns_->name();
    spec.mounts.push_back({out.string(), "/out", false});
    auto id = service_->run(ns_, spec);
    EXPECT_TRUE(id) << id.error().message;
    return id ? waitForDone(out / "result") : "";
  }
};

TEST_F(SecurityIT, DefaultContainerHoldsExactlyTheDocumentedCapabilities) {
  ContainerSpec spec;
  spec.name = "caps";
  const std::string status = runScript(spec, "cat /proc/self/status");
  const auto eff = capField(status, "CapEff");
  ASSERT_TRUE(eff) << status;
  // docs/security.md: containerd's default set, 0x00000000a80425fb.
  EXPECT_EQ(*eff, capMask(capabilitySet(false))) << status;
  EXPECT_EQ(*eff, 0xa80425fbULL) << status;
  EXPECT_EQ(capField(status, "CapBnd"), eff) << status;
  EXPECT_EQ(capField(status, "CapInh"), 0u) << status;
  EXPECT_EQ(capField(status, "CapAmb"), 0u) << status;
  // noNewPrivileges
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
}

TEST_F(SecurityIT, ElevatedAddsOnlyCapSysAdmin) {
  ContainerSpec spec;
  spec.name = "elevated";
  spec.elevated = true;
  const std::string status = runScript(spec, "cat /proc/self/status; ls -l /dev/fuse");
  const auto eff = capField(status, "CapEff");
  ASSERT_TRUE(eff) << status;
  EXPECT_EQ(*eff, 0xa80425fbULL | (1ULL << 21)) << status;
  EXPECT_NE(status.find("/dev/fuse"), std::string::npos) << status;
}

TEST_F(SecurityIT, ReadonlyRootfsRefusesWritesButMountsStayWritable) {
  ContainerSpec spec;
  spec.name = "ro";
  spec.readonly_rootfs = true;
  const std::string out =
      runScript(spec, "touch /rootfs-file; echo root=$?; touch /out/x; echo out=$?");
  EXPECT_NE(out.find("root=1"), std::string::npos) << out;
  EXPECT_NE(out.find("Read-only file system"), std::string::npos) << out;
  EXPECT_NE(out.find("out=0"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(rootfs_->path() / "rootfs-file"));
}

// connect() to `path` as uid/gid 65534 (nobody) with `groups` as supplementary groups, in
// a child process; returns 0 or the errno.
int connectAs(const std::string& path, gid_t gid, const std::vector<gid_t>& groups) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 ||
        ::setuid(65534) != 0) {
      ::_exit(100);
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::_exit(rc == 0 ? 0 : (errno & 0x7f));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(SecurityIT, ApiSocketRefusesCallersOutsideItsGroup) {
  constexpr gid_t kApiGroup = 64999;  // a gid of no one: a numeric socket_group
  auto daemon = support::ContdDaemon::start({.binary = CONTD_BIN,
                                             .containerd_socket = containerd_->socketPath(),
                                             .dir = dir_->path() / "daemon",
                                             .extra_args = {"--socket-group",
                                                            std::to_string(kApiGroup)}});
  ASSERT_TRUE(daemon) << daemon.error().message;
  const std::string socket = (*daemon)->socketPath();
  struct stat st {};
  ASSERT_EQ(::stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, kApiGroup);
  // Let everyone reach the socket file itself, so that only its own mode decides.
  ::chmod(dir_->path().c_str(), 0755);
  ::chmod((dir_->path() / "daemon").c_str(), 0755);

  EXPECT_EQ(connectAs(socket, 65534, {}), EACCES) << "a stranger got in";
  EXPECT_EQ(connectAs(socket, 65534, {kApiGroup}), 0) << "a group member was refused";
  EXPECT_EQ(connectAs(socket, kApiGroup, {}), 0) << "the primary group was refused";
  auto stopped = (*daemon)->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0);
}

}  // namespace
}  // namespace contd::container
