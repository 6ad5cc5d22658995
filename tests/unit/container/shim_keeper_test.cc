// ShimKeeper on the fake containerd: the keeper of a namespace is made once when a grouped
// Run asks, is not one of contd's containers, is made again when it died, goes after its
// keepalive unless used, and is taken over by a new contd.

#include "modules/container/shim_keeper.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/container/runtime_choice.h"
#include "tests/fakes/fake_containerd.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Polls `done` for up to 5 s.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

class ShimKeeperTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "contd-keeper-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    binary_ = dir_ / "contd-keeper-binary";
    std::ofstream(binary_) << "keeper bytes";
    // A grouped Run made the namespace before it asks for the keeper.
    ASSERT_TRUE(fake_.ensureNamespace("ns1"));
    ASSERT_TRUE(fake_.ensureNamespace("ns2"));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  KeeperOptions options(std::chrono::milliseconds keepalive) const {
    return {.binary = binary_, .root = dir_ / "keeper", .keepalive = keepalive, .recheck = 0ms};
  }
  bool keeperRuns(const std::string& ns) {
    auto task = fake_.getTask(ns, kKeeperId);
    return task && task->status == containerd::TaskStatus::kRunning;
  }

  testing::FakeContainerd fake_;
  fs::path dir_;
  fs::path binary_;
};

TEST_F(ShimKeeperTest, MakesOneKeeperPerNamespaceOutsideContdsContainers) {
  ShimKeeper keeper(fake_, options(60s));
  keeper.ensure("ns1", "crun");
  ASSERT_TRUE(eventually([&] { return keeper.made() == 1; }));
  EXPECT_TRUE(keeperRuns("ns1"));
  const auto record = fake_.record("ns1", kKeeperId);
  EXPECT_EQ(record.labels, (containerd::Labels{{kKeeperLabel, "true"}}));  // not managed
  EXPECT_EQ(record.runtime_binary, "crun");
  EXPECT_TRUE(fake_.taskIo("ns1", kKeeperId).stdout_uri.empty());  // no log driver
  const auto spec = nlohmann::json::parse(record.spec_json);
  EXPECT_EQ(spec["annotations"][kShimGroupAnnotation], "ns1");
  EXPECT_EQ(spec["process"]["user"]["uid"], 65534);
  EXPECT_TRUE(spec["process"]["capabilities"]["bounding"].empty());
  EXPECT_EQ(spec["root"]["readonly"], true);
  EXPECT_EQ(spec["linux"]["cgroupsPath"], std::string("/ns1/") + kKeeperId);
  // Its root and mount points, and its own copy of the binary (the bind source).
  EXPECT_TRUE(fs::is_directory(dir_ / "keeper" / "rootfs" / "proc"));
  EXPECT_TRUE(fs::is_directory(dir_ / "keeper" / "rootfs" / "dev"));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "keeper" / "rootfs" / "contd-keeper"));
  std::ifstream copy(dir_ / "keeper" / "contd-keeper");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(copy), {}), "keeper bytes");

  keeper.ensure("ns1", "crun");  // already there
  keeper.ensure("ns2", "");      // another namespace, runc
  ASSERT_TRUE(eventually([&] { return keeper.made() == 2; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(keeper.made(), 2u);
  EXPECT_TRUE(keeperRuns("ns2"));
  EXPECT_EQ(fake_.record("ns2", kKeeperId).runtime_binary, "");
}

TEST_F(ShimKeeperTest, AKeeperThatDiedIsMadeAgain) {
  ShimKeeper keeper(fake_, options(60s));
  keeper.ensure("ns1", "");
  ASSERT_TRUE(eventually([&] { return keeper.made() == 1; }));
  fake_.exitTask("ns1", kKeeperId, 137);
  keeper.ensure("ns1", "");
  ASSERT_TRUE(eventually([&] { return keeper.made() == 2; }));
  EXPECT_TRUE(keeperRuns("ns1"));
}

TEST_F(ShimKeeperTest, AnIdleKeeperGoesAndComesBackWithTheNextRun) {
  ShimKeeper keeper(fake_, options(100ms));
  keeper.ensure("ns1", "");
  ASSERT_TRUE(eventually([&] { return keeper.removed() == 1; }));
  EXPECT_FALSE(fake_.hasTask("ns1", kKeeperId));
  EXPECT_FALSE(fake_.hasContainer("ns1", kKeeperId));
  keeper.ensure("ns1", "");
  ASSERT_TRUE(eventually([&] { return keeper.made() == 2; }));
  EXPECT_TRUE(keeperRuns("ns1"));
}

TEST_F(ShimKeeperTest, AKeeperInUseStays) {
  ShimKeeper keeper(fake_, options(300ms));
  for (int i = 0; i < 8; ++i) {  // 800 ms of Runs, one every 100 ms
    keeper.ensure("ns1", "");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(keeper.removed(), 0u);
  EXPECT_EQ(keeper.made(), 1u);
  EXPECT_TRUE(keeperRuns("ns1"));
  ASSERT_TRUE(eventually([&] { return keeper.removed() == 1; }));  // then idle
}

TEST_F(ShimKeeperTest, KeepaliveZeroMeansNoKeeperAndEndsThoseLeft) {
  {
    ShimKeeper first(fake_, options(60s));
    first.ensure("ns1", "");
    ASSERT_TRUE(eventually([&] { return first.made() == 1; }));
  }
  ShimKeeper keeper(fake_, options(0ms));
  keeper.ensure("ns2", "");
  keeper.adopt();  // the one the first left
  ASSERT_TRUE(eventually([&] { return keeper.removed() == 1; }));
  EXPECT_FALSE(fake_.hasContainer("ns1", kKeeperId));
  EXPECT_FALSE(fake_.hasContainer("ns2", kKeeperId));
  EXPECT_EQ(keeper.made(), 0u);
}

TEST_F(ShimKeeperTest, AdoptedKeepersGetAFreshKeepaliveThenGo) {
  {
    ShimKeeper first(fake_, options(60s));
    first.ensure("ns1", "");
    ASSERT_TRUE(eventually([&] { return first.made() == 1; }));
  }
  EXPECT_TRUE(keeperRuns("ns1"));  // a keeper outlives its contd
  ShimKeeper keeper(fake_, options(200ms));
  keeper.adopt();
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(keeperRuns("ns1"));
  ASSERT_TRUE(eventually([&] { return keeper.removed() == 1; }));
  EXPECT_FALSE(fake_.hasContainer("ns1", kKeeperId));
}

TEST_F(ShimKeeperTest, AFailedMakeIsTriedAgainByTheNextRun) {
  ShimKeeper keeper(fake_, options(60s));
  fake_.failNext("createTask", Code::kUnavailable);
  keeper.ensure("ns1", "");
  ASSERT_TRUE(eventually([&] { return fake_.hasContainer("ns1", kKeeperId); }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(keeper.made(), 0u);
  EXPECT_FALSE(fake_.hasTask("ns1", kKeeperId));
  keeper.ensure("ns1", "");  // the record left by the failed try is reused
  ASSERT_TRUE(eventually([&] { return keeper.made() == 1; }));
  EXPECT_TRUE(keeperRuns("ns1"));
}

TEST_F(ShimKeeperTest, AMissingBinaryMakesNoKeeper) {
  fs::remove(binary_);
  ShimKeeper keeper(fake_, options(60s));
  keeper.ensure("ns1", "");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(keeper.made(), 0u);
  EXPECT_FALSE(fake_.hasContainer("ns1", kKeeperId));
  // The try above ran and failed (it is not still pending): with the binary back, the next
  // Run's ensure makes it.
  std::ofstream(binary_) << "keeper bytes";
  keeper.ensure("ns1", "");
  ASSERT_TRUE(eventually([&] { return keeper.made() == 1; }));
}

}  // namespace
}  // namespace contd::container
