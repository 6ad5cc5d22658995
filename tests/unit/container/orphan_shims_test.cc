// Reconcile's orphan step against an in-memory containerd and a fake host: the shims and
// log drivers contd's interrupted Runs leave with no task are ended, nothing else is.

#include "modules/container/orphan_shims.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "modules/container/service.h"
#include "modules/container/stale_bundle.h"
#include "modules/container/supervisor.h"
#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_host.h"
#include "tests/fakes/fake_shim_host.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

using testing::FakeShimHost;

class OrphanShimsTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::canonical(fs::temp_directory_path()) /
            ("contd-orphan-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    testing::makeFakeHost(root_);
    options_ = testing::fakeHostOptions(root_);
    service_ = std::make_unique<ContainerService>(fake_, options_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void run(const std::string& name) {
    auto id = service_->run("ns1", testing::fakeHostSpec(root_, name));
    ASSERT_TRUE(id) << id.error().message;
  }

  std::size_t endOrphans() { return container::endOrphans(host_, service_->store(), service_->tasks()); }

  fs::path root_;
  ServiceOptions options_;
  testing::FakeContainerd fake_;
  std::unique_ptr<ContainerService> service_;
  FakeShimHost host_;
};

TEST_F(OrphanShimsTest, ShimAndLoggersOfNoTaskAreEnded) {
  // contd killed during tasks.Create: containerd dropped the task, the shim lives on.
  host_.shims_.push_back({.pid = 10, .ns = "ns1", .id = "k1", .bundle = "/b/k1", .made_by_contd = true});
  host_.loggers_.push_back({.pid = 11, .ns = "ns1", .id = "k1"});
  host_.loggers_.push_back({.pid = 12, .ns = "ns1", .id = "k1"});
  // A log driver whose shim is gone already.
  host_.loggers_.push_back({.pid = 13, .ns = "ns2", .id = "k2"});
  EXPECT_EQ(endOrphans(), 4u);
  EXPECT_TRUE(host_.ended(10) && host_.ended(11) && host_.ended(12) && host_.ended(13));
}

TEST_F(OrphanShimsTest, ATasksShimAndLoggersAreLeftAlone) {
  ASSERT_NO_FATAL_FAILURE(run("web"));
  host_.shims_.push_back({.pid = 20, .ns = "ns1", .id = "web", .bundle = "/b/web", .made_by_contd = true});
  host_.loggers_.push_back({.pid = 21, .ns = "ns1", .id = "web"});
  EXPECT_EQ(endOrphans(), 0u);
  EXPECT_TRUE(host_.ended_.empty());
}

TEST_F(OrphanShimsTest, AGroupsShimWhoseFirstContainerHasNoTaskIsLeftToTheOthers) {
  // shim_group "namespace": the shim was started for k1 (its Create cut off, or k1 gone)
  // and now runs the namespace's other containers.
  host_.shims_.push_back({.pid = 70, .ns = "ns1", .id = "k1", .bundle = "/b/k1",
                          .made_by_contd = true, .serves_others = true});
  host_.loggers_.push_back({.pid = 71, .ns = "ns1", .id = "k1"});
  EXPECT_EQ(endOrphans(), 1u);  // k1's own log driver only
  EXPECT_FALSE(host_.ended(70));
  EXPECT_TRUE(host_.ended(71));
}

TEST_F(OrphanShimsTest, AShimContdDidNotMakeIsLeftAlone) {
  host_.shims_.push_back({.pid = 30, .ns = "ns1", .id = "other", .bundle = "/b/other"});
  EXPECT_EQ(endOrphans(), 0u);
  EXPECT_TRUE(host_.ended_.empty());
}

TEST_F(OrphanShimsTest, NothingIsEndedWhileContainerdCannotSay) {
  host_.shims_.push_back({.pid = 40, .ns = "ns1", .id = "k1", .bundle = "/b/k1", .made_by_contd = true});
  fake_.failNext("getTask", Code::kUnavailable);
  EXPECT_EQ(endOrphans(), 0u);
  EXPECT_TRUE(host_.ended_.empty());
}

// containerd killed inside tasks.Create before a shim started: a bundle of no shim, no task.
TEST_F(OrphanShimsTest, ContdsBundleOfNoShimAndNoTaskIsRemoved) {
  const fs::path bundle = root_ / "state" / kTaskBundleDir / "ns1" / "k1";
  fs::create_directories(bundle / "rootfs");
  host_.bundles_.push_back({.ns = "ns1", .id = "k1", .path = bundle, .made_by_contd = true});
  EXPECT_EQ(endOrphans(), 1u);
  EXPECT_FALSE(fs::exists(bundle));
}

TEST_F(OrphanShimsTest, BundlesOfATaskOfAShimOrNotContdsAreLeftAlone) {
  ASSERT_NO_FATAL_FAILURE(run("web"));
  const fs::path dir = root_ / "state" / kTaskBundleDir / "ns1";
  for (const char* id : {"web", "k2", "other"}) {
    fs::create_directories(dir / id);
  }
  host_.bundles_.push_back({.ns = "ns1", .id = "web", .path = dir / "web", .made_by_contd = true});
  host_.bundles_.push_back({.ns = "ns1", .id = "k2", .path = dir / "k2", .made_by_contd = true});
  host_.bundles_.push_back({.ns = "ns1", .id = "other", .path = dir / "other"});
  // A shim of k2 contd did not make: not ended, and its bundle stays.
  host_.shims_.push_back({.pid = 60, .ns = "ns1", .id = "k2", .bundle = dir / "k2"});
  EXPECT_EQ(endOrphans(), 0u);
  for (const char* id : {"web", "k2", "other"}) {
    EXPECT_TRUE(fs::exists(dir / id)) << id;
  }
  EXPECT_TRUE(host_.removed_.empty());
}

TEST_F(OrphanShimsTest, NoBundleIsRemovedWhileContainerdCannotSay) {
  const fs::path bundle = root_ / "state" / kTaskBundleDir / "ns1" / "k1";
  fs::create_directories(bundle);
  host_.bundles_.push_back({.ns = "ns1", .id = "k1", .path = bundle, .made_by_contd = true});
  fake_.failNext("getTask", Code::kUnavailable);
  EXPECT_EQ(endOrphans(), 0u);
  EXPECT_TRUE(fs::exists(bundle));
}

// What the reconcile's orphan pass had to skip, the recheck a little later removes.
TEST_F(OrphanShimsTest, TheRecheckAfterAReconcileRemovesWhatTheReconcileCouldNot) {
  const fs::path bundle = root_ / "state" / kTaskBundleDir / "ns1" / "k1";
  fs::create_directories(bundle);
  host_.bundles_.push_back({.ns = "ns1", .id = "k1", .path = bundle, .made_by_contd = true});
  fake_.failNext("getTask", Code::kUnavailable);  // the reconcile's question
  Supervisor supervisor(fake_, service_->store(), service_->tasks(), service_->events(),
                        RestartPolicy{}, &host_);
  supervisor.setOrphanRecheck(std::chrono::milliseconds(200));
  supervisor.start();
  ASSERT_TRUE(supervisor.waitUntilWatching(std::chrono::seconds(5)));
  EXPECT_TRUE(fs::exists(bundle)) << "the reconcile could not ask containerd";
  for (int i = 0; i < 100 && fs::exists(bundle); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(fs::exists(bundle)) << "the recheck did not remove it";
  supervisor.stop();
}

// containerd killed while making a bundle, before config.json: no mark says whose it is.
// It is removed when containerd has no record of the name (no task can ever use it), and
// kept when another client's record holds the name.
TEST_F(OrphanShimsTest, AShimInAnUnfinishedBundleIsEndedUnlessAnotherClientsRecordHoldsTheName) {
  // containerd killed inside tasks.Create after the shim started and before config.json:
  // no annotation, no log driver yet, and a shim that waits forever.
  containerd::ContainerRecord foreign;
  foreign.id = "theirs";
  ASSERT_TRUE(fake_.ensureNamespace("ns1"));
  ASSERT_TRUE(fake_.createContainer("ns1", foreign));
  host_.shims_.push_back({.pid = 70, .ns = "ns1", .id = "cut", .bundle = "/b/cut",
                          .has_config = false});
  host_.shims_.push_back({.pid = 71, .ns = "ns1", .id = "theirs", .bundle = "/b/theirs",
                          .has_config = false});
  EXPECT_EQ(endOrphans(), 1u);
  EXPECT_TRUE(host_.ended(70));
  EXPECT_FALSE(host_.ended(71));
}

TEST_F(OrphanShimsTest, AnUnfinishedBundleIsRemovedUnlessAnotherClientsRecordHoldsTheName) {
  const fs::path dir = root_ / "state" / kTaskBundleDir / "ns1";
  fs::create_directories(dir / "gone" / "rootfs");
  fs::create_directories(dir / "theirs");
  containerd::ContainerRecord foreign;
  foreign.id = "theirs";
  ASSERT_TRUE(fake_.ensureNamespace("ns1"));
  ASSERT_TRUE(fake_.createContainer("ns1", foreign));
  host_.bundles_.push_back(
      {.ns = "ns1", .id = "gone", .path = dir / "gone", .has_config = false});
  host_.bundles_.push_back(
      {.ns = "ns1", .id = "theirs", .path = dir / "theirs", .has_config = false});
  EXPECT_EQ(endOrphans(), 1u);
  EXPECT_FALSE(fs::exists(dir / "gone"));
  EXPECT_TRUE(fs::exists(dir / "theirs"));
}

}  // namespace
}  // namespace contd::container
