// The bundle containerd 1.6 leaves when killed inside tasks.Create (no shim, "mkdir
// <bundle>: file exists" on every later Create of the name): recognised only in its exact
// shape, removed only when no shim uses it, never beyond its own directory tree.

#include "modules/container/stale_bundle.h"

#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "modules/container/bundle_removal.h"
#include "modules/container/service.h"
#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_host.h"
#include "tests/fakes/fake_shim_host.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

using testing::FakeShimHost;

Error mkdirExists(const std::string& path) {
  return makeError(Code::kUnknown,
                   "tasks.Create ns=ns1 id=web: failed to start shim: mkdir " + path + ": file exists");
}

TEST(StaleBundleOf, ReadsTheBundleOfTheName) {
  auto bundle = staleBundleOf(mkdirExists("/run/c/io.containerd.runtime.v2.task/ns1/web"), "ns1", "web");
  ASSERT_TRUE(bundle);
  EXPECT_EQ(*bundle, "/run/c/io.containerd.runtime.v2.task/ns1/web");
}

TEST(StaleBundleOf, RefusesOtherErrorsAndShapes) {
  const std::string good = "/run/c/io.containerd.runtime.v2.task/ns1/web";
  EXPECT_FALSE(staleBundleOf(makeError(Code::kInternal, mkdirExists(good).message), "ns1", "web"));
  EXPECT_FALSE(staleBundleOf(mkdirExists(good), "ns1", "other"));
  EXPECT_FALSE(staleBundleOf(mkdirExists(good), "ns2", "web"));
  for (const std::string bad :
       {"run/c/io.containerd.runtime.v2.task/ns1/web", "/run/c/io.containerd.runtime.v2.task/ns1/web/",
        "/run/c/../io.containerd.runtime.v2.task/ns1/web", "/run/c/io.containerd.runtime.v2.task/./ns1/web",
        "/run//c/io.containerd.runtime.v2.task/ns1/web", "/io.containerd.runtime.v2.task/ns1/web",
        "/run/c/io.containerd.runtime.v1.linux/ns1/web", "/etc", ""}) {
    EXPECT_FALSE(staleBundleOf(mkdirExists(bad), "ns1", "web")) << bad;
  }
  EXPECT_FALSE(staleBundleOf(makeError(Code::kUnknown, "failed to start shim: mkdir " + good +
                                                           ": permission denied"),
                             "ns1", "web"));
}

class StaleBundleTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::canonical(fs::temp_directory_path()) /
            ("contd-stale-bundle-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    testing::makeFakeHost(root_);
    fs::create_directories(root_ / "outside");
    std::ofstream(root_ / "outside" / "keep").put('x');
    options_ = testing::fakeHostOptions(root_);
    service_ = std::make_unique<ContainerService>(fake_, options_);
    service_->tasks().useShimHost(&host_);
  }
  void TearDown() override {
    if (mounted_) {
      ::umount2(mounted_->c_str(), MNT_DETACH);
    }
    fs::remove_all(root_);
  }

  fs::path bundleOf(const std::string& id) { return root_ / "state" / kTaskBundleDir / "ns1" / id; }
  fs::path workOf(const std::string& id) { return root_ / "root" / kTaskBundleDir / "ns1" / id; }

  // What NewBundle made before containerd died, plus links out of it that must not be followed.
  fs::path leaveBundle(const std::string& id) {
    const fs::path bundle = bundleOf(id);
    fs::create_directories(bundle / "rootfs");
    fs::create_directories(workOf(id));
    fs::create_symlink(workOf(id), bundle / "work");
    std::ofstream(bundle / "config.json") << "{}";
    fs::create_symlink(root_ / "outside", bundle / "escape");
    fs::create_symlink(root_ / "outside", bundle / "rootfs" / "escape");
    fake_.leaveBundle("ns1", id, bundle);
    return bundle;
  }

  Result<std::string> run(const std::string& name) {
    ContainerSpec spec;
    spec.name = name;
    spec.rootfs = (root_ / "rootfs").string();
    spec.entrypoint = "/bin/sh -c 'sleep 1000'";
    spec.network_namespace = "net1";
    return service_->run("ns1", spec);
  }

  fs::path root_;
  ServiceOptions options_;
  testing::FakeContainerd fake_;
  std::unique_ptr<ContainerService> service_;
  FakeShimHost host_;
  std::optional<fs::path> mounted_;
};

TEST_F(StaleBundleTest, RunRemovesABundleWithNoShimAndCreatesAgain) {
  const fs::path bundle = leaveBundle("web");
  auto id = run("web");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_FALSE(fs::exists(bundle));
  EXPECT_FALSE(fs::exists(workOf("web")));
  EXPECT_TRUE(fs::exists(root_ / "outside" / "keep"));  // links were removed, not followed
  ASSERT_EQ(host_.removed_.size(), 1u);
  EXPECT_EQ(host_.removed_[0], bundle);
}

TEST_F(StaleBundleTest, ABundleWithALiveShimIsLeftAlone) {
  const fs::path bundle = leaveBundle("web");
  host_.shims_.push_back({.pid = 50, .ns = "ns1", .id = "web", .bundle = bundle, .made_by_contd = true});
  auto id = run("web");
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message.find("file exists"), std::string::npos) << id.error().message;
  EXPECT_NE(id.error().message.find("live shim (pid 50)"), std::string::npos) << id.error().message;
  EXPECT_TRUE(fs::exists(bundle / "config.json"));
  EXPECT_TRUE(host_.removed_.empty());
}

TEST_F(StaleBundleTest, ABundleOutsideTheShimsStateDirIsLeftAlone) {
  const fs::path bundle = leaveBundle("web");
  host_.shims_.push_back({.pid = 51, .ns = "ns1", .id = "db",
                          .bundle = "/elsewhere/io.containerd.runtime.v2.task/ns1/db"});
  EXPECT_FALSE(run("web"));
  EXPECT_TRUE(fs::exists(bundle / "config.json"));
  EXPECT_TRUE(host_.removed_.empty());
}

TEST_F(StaleBundleTest, AShimOfAnotherNameInTheSameStateDirDoesNotStopIt) {
  const fs::path bundle = leaveBundle("web");
  host_.shims_.push_back({.pid = 52, .ns = "ns1", .id = "db", .bundle = bundleOf("db")});
  auto id = run("web");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_FALSE(fs::exists(bundle));
}

TEST_F(StaleBundleTest, AWorkLinkOfAnotherShapeIsNotFollowed) {
  const fs::path bundle = leaveBundle("web");
  fs::remove(bundle / "work");
  fs::create_symlink(root_ / "outside", bundle / "work");
  ASSERT_TRUE(removeTaskBundle("ns1", "web", bundle));
  EXPECT_FALSE(fs::exists(bundle));
  EXPECT_TRUE(fs::exists(root_ / "outside" / "keep"));
}

TEST_F(StaleBundleTest, ASymlinkAsBundleOrAboveItIsRefused) {
  fs::create_directories(bundleOf("web").parent_path());
  fs::create_symlink(root_ / "outside", bundleOf("web"));
  EXPECT_EQ(removeTaskBundle("ns1", "web", bundleOf("web")).error().code, Code::kFailedPrecondition);
  fs::create_directories(root_ / "real" / kTaskBundleDir / "ns1" / "web");
  fs::create_symlink(root_ / "real", root_ / "linked");
  const fs::path via_link = root_ / "linked" / kTaskBundleDir / "ns1" / "web";
  EXPECT_EQ(removeTaskBundle("ns1", "web", via_link).error().code, Code::kFailedPrecondition);
  EXPECT_TRUE(fs::exists(root_ / "real" / kTaskBundleDir / "ns1" / "web"));
  EXPECT_TRUE(fs::exists(root_ / "outside" / "keep"));
}

// Needs root (mount); skipped otherwise.
TEST_F(StaleBundleTest, RootfsMountIsUnmountedAndOtherMountsAreNotEntered) {
  const fs::path bundle = leaveBundle("web");
  if (::mount("tmpfs", (bundle / "rootfs").c_str(), "tmpfs", 0, nullptr) != 0) {
    GTEST_SKIP() << "cannot mount tmpfs";
  }
  std::ofstream(bundle / "rootfs" / "in-mount").put('x');
  fs::create_directories(bundle / "other");
  ASSERT_EQ(::mount("tmpfs", (bundle / "other").c_str(), "tmpfs", 0, nullptr), 0);
  mounted_ = bundle / "other";
  std::ofstream(bundle / "other" / "keep").put('x');
  auto removed = removeTaskBundle("ns1", "web", bundle);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, Code::kFailedPrecondition) << removed.error().message;
  EXPECT_FALSE(fs::exists(bundle / "rootfs" / "in-mount"));  // unmounted
  EXPECT_TRUE(fs::exists(bundle / "other" / "keep"));
  ::umount2(mounted_->c_str(), MNT_DETACH);
  mounted_.reset();
  EXPECT_TRUE(removeTaskBundle("ns1", "web", bundle));
  EXPECT_FALSE(fs::exists(bundle));
}

}  // namespace
}  // namespace contd::container
