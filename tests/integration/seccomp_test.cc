// seccomp end to end: the default profile of etc/ given to real containers through
// ContainerService, containerd and runc.
//
// What proves that seccomp (and not a missing capability) blocks a call: unshare(2) with
// CLONE_NEWUSER needs no capability at all, so the same container with the same capability
// set succeeds with seccomp "unconfined" and gets EPERM with the default profile.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "modules/common/logging.h"
#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "modules/seccomp/profile.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
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

class SeccompIT : public support::ServiceFixture {
protected:
  // The default profile as contd loads it at start.
  container::ServiceOptions serviceOptions() override {
    auto options = ServiceFixture::serviceOptions();
    auto profile = seccomp::loadProfile(CONTD_DEFAULT_SECCOMP_PROFILE);
    EXPECT_TRUE(profile) << profile.error().message;
    if (profile) {
      options.seccomp_profile = profile->json;
    }
    return options;
  }

  // Runs `script` in a container that sees the test's folder <dir>/<name> at /out, waits
  // until the script has written /out/result ending with "done", and returns it.
  std::string runScript(const std::string& name, const std::string& script,
                        const std::string& seccomp, bool elevated = false) {
    const fs::path out = dir_->path() / name;
    fs::create_directories(out);
    ContainerSpec spec;
    spec.name = name;
    spec.rootfs = rootfs_->path().string();
    spec.argv = {"/bin/sh", "-c", "{ " + script + "; } > /out/result 2>&1; echo done >> /out/result"};
    spec.network_namespace = netns_->name();
    spec.mounts = {{out.string(), "/out", false}};
    spec.seccomp = seccomp;
    spec.elevated = elevated;
    auto id = service_->run(ns_, spec);
    EXPECT_TRUE(id) << id.error().message;
    if (!id) {
      return "";
    }
    return waitForDone(out / "result");
  }
};

// unshare -U: a user namespace, which needs no capability; "rc=" is its exit status.
constexpr char kUnshareUser[] = "unshare -U /bin/true; echo rc=$?";

TEST_F(SeccompIT, DefaultProfileBlocksWhatUnconfinedAllowsWithTheSameCapabilities) {
  const std::string confined = runScript("confined", kUnshareUser, "default");
  EXPECT_NE(confined.find("Operation not permitted"), std::string::npos) << confined;
  EXPECT_NE(confined.find("rc=1"), std::string::npos) << confined;

  const std::string unconfined = runScript("unconfined", kUnshareUser, "unconfined");
  EXPECT_NE(unconfined.find("rc=0"), std::string::npos) << unconfined;
  EXPECT_EQ(unconfined.find("Operation not permitted"), std::string::npos) << unconfined;

  // The empty value means the default too.
  const std::string implicit = runScript("implicit", kUnshareUser, "");
  EXPECT_NE(implicit.find("Operation not permitted"), std::string::npos) << implicit;
}

TEST_F(SeccompIT, EverydayCallsWorkUnderTheDefaultProfile) {
  const std::string out = runScript(
      "everyday", "echo hi > /tmp/f && cat /tmp/f && sleep 0.1 && ls / >/dev/null && "
                  "ps >/dev/null && date >/dev/null && echo rc=$?",
      "default");
  EXPECT_NE(out.find("hi\n"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
}

TEST_F(SeccompIT, ElevatedContainersMayUnshare) {
  const std::string out = runScript("elevated", kUnshareUser, "default", /*elevated=*/true);
  EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
}

TEST_F(SeccompIT, OwnProfilePathIsUsed) {
  // The default profile with unshare allowed for everyone: the user namespace works again.
  auto profile = seccomp::loadProfile(CONTD_DEFAULT_SECCOMP_PROFILE);
  ASSERT_TRUE(profile) << profile.error().message;
  profile->json["syscalls"].push_back({{"names", {"unshare"}}, {"action", "SCMP_ACT_ALLOW"}});
  const fs::path path = dir_->path() / "own.json";
  std::ofstream(path) << profile->json.dump();
  const std::string out = runScript("own", kUnshareUser, path.string());
  EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
}

TEST_F(SeccompIT, MalformedProfileIsARunErrorAndCreatesNothing) {
  const fs::path broken = dir_->path() / "broken.json";
  std::ofstream(broken) << R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)";
  const fs::path wrong = dir_->path() / "wrong.json";
  std::ofstream(wrong) << R"({"defaultAction": "SCMP_ACT_ERRNO",
                             "syscalls": [{"names": ["read"], "action": "SCMP_ACT_PERHAPS"}]})";
  for (const std::string& path :
       {broken.string(), wrong.string(), (dir_->path() / "missing.json").string(),
        std::string("not-a-path")}) {
    ContainerSpec spec;
    spec.name = "bad";
    spec.rootfs = rootfs_->path().string();
    spec.argv = {"/bin/true"};
    spec.network_namespace = netns_->name();
    spec.seccomp = path;
    auto id = service_->run(ns_, spec);
    ASSERT_FALSE(id) << "accepted seccomp " << path;
    EXPECT_EQ(id.error().code, Code::kInvalidArgument) << id.error().message;
    EXPECT_EQ(id.error().message.rfind("seccomp: ", 0), 0u) << id.error().message;
  }
  auto namespaces = client_->listNamespaces();
  ASSERT_TRUE(namespaces) << namespaces.error().message;
  EXPECT_EQ(std::count(namespaces->begin(), namespaces->end(), ns_), 0);
}

}  // namespace
}  // namespace contd::container
