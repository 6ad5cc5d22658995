// What survives what: containers and every line of their output outlive kill -9 of contd,
// kill -9 of containerd, and an ordinary restart of contd. Real contd, contctl, containerd,
// runc; ten containers each printing a counter every 10 ms.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/container/log_reader.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;

constexpr int kContainers = 10;

class RecoveryIT : public ::testing::Test {
protected:
  void SetUp() override {
    const std::string missing = support::missingContainerdPrerequisites();
    CONTD_REQUIRE_OR_SKIP(missing.empty(), missing);
    auto containerd = support::PrivateContainerd::start();
    ASSERT_TRUE(containerd) << containerd.error().message;
    containerd_ = std::move(*containerd);
    auto rootfs = support::BusyboxRootfs::build();
    ASSERT_TRUE(rootfs) << rootfs.error().message;
    rootfs_.emplace(std::move(*rootfs));
    ns_ = support::uniqueName("rec");
    auto netns = support::NetworkNamespace::create();
    ASSERT_TRUE(netns) << netns.error().message;
    netns_ = std::move(*netns);
    auto dir = support::TempDir::make("contd-rec");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    support::ContdDaemon::Options options;
    options.binary = CONTD_BIN;
    options.containerd_socket = containerd_->socketPath();
    options.dir = dir_->path();
    auto daemon = support::ContdDaemon::start(options);
    ASSERT_TRUE(daemon) << daemon.error().message;
    daemon_ = std::move(*daemon);
  }

  void TearDown() override {
    daemon_.reset();
    if (containerd_) {
      auto client = containerd::GrpcClient::connect(containerd_->socketPath(), 5s);
      if (client) {
        Status purged = support::purgeNamespace(**client, ns_);
        EXPECT_TRUE(purged) << purged.error().message;
      }
    }
    containerd_.reset();
    if (netns_) {
      EXPECT_TRUE(netns_->remove());
    }
    if (dir_) {
      EXPECT_TRUE(dir_->remove());
    }
  }

  support::CommandResult contctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {CONTCTL_BIN, "--socket", daemon_->socketPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = support::runCommand(argv, 60s);
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : support::CommandResult{};
  }

  // name -> pid of every running container of the namespace; empty when contd cannot answer.
  std::map<std::string, long long> pids() {
    std::map<std::string, long long> out;
    auto ls = contctl({"--json", "ls", "-n", ns_});
    last_error_ = ls.err;
    if (ls.exit_code != 0) {
      return out;
    }
    auto json = nlohmann::json::parse(ls.out, nullptr, false);
    if (json.is_discarded() || !json.contains("containers")) {
      return out;
    }
    for (const auto& c : json["containers"]) {
      if (c.value("status", "") == "RUNNING") {
        out[c["spec"]["name"].get<std::string>()] = c["pid"].get<long long>();
      }
    }
    return out;
  }

  std::unique_ptr<support::PrivateContainerd> containerd_;
  std::optional<support::BusyboxRootfs> rootfs_;
  std::string ns_;
  std::unique_ptr<support::NetworkNamespace> netns_;
  std::optional<support::TempDir> dir_;
  std::unique_ptr<support::ContdDaemon> daemon_;
  std::string last_error_;
};

TEST_F(RecoveryIT, ContainersAndEveryLogLineSurviveCrashesOfContdAndContainerd) {
  for (int i = 0; i < kContainers; ++i) {
    auto run = contctl({"run", ns_, "counter" + std::to_string(i), "--rootfs",
                        rootfs_->path().string(), "--netns", netns_->name(), "--", "/bin/sh",
                        "-c",
                        "trap 'exit 0' TERM; i=0; while true; do echo $i; i=$((i+1)); "
                        "usleep 10000; done"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  const auto before = pids();
  ASSERT_EQ(before.size(), static_cast<std::size_t>(kContainers));
  std::this_thread::sleep_for(300ms);

  // 1. kill -9 of contd.
  ASSERT_TRUE(daemon_->crash());
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(daemon_->restart());
  EXPECT_EQ(pids(), before) << "after kill -9 of contd";

  // 2. kill -9 of containerd, then its restart: contd reconnects by itself.
  ASSERT_TRUE(containerd_->crash());
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(containerd_->restart());
  // contd's calls fail while containerd is away and succeed again once its channel has
  // reconnected (100-500 ms backoff).
  std::map<std::string, long long> after_containerd;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (after_containerd != before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    after_containerd = pids();
  }
  EXPECT_EQ(after_containerd, before) << "after kill -9 of containerd: " << last_error_;

  // 3. an ordinary stop and start of contd.
  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0);
  ASSERT_TRUE(daemon_->restart());
  EXPECT_EQ(pids(), before) << "after a restart of contd";
  std::this_thread::sleep_for(300ms);

  // Every counter value, exactly once and in order, in each log.
  for (int i = 0; i < kContainers; ++i) {
    const std::string name = "counter" + std::to_string(i);
    auto rm = contctl({"rm", ns_, name});
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    auto lines = container::readLog(daemon_->logRoot() / ns_ / (name + ".log"), {});
    ASSERT_TRUE(lines) << lines.error().message;
    ASSERT_GT(lines->size(), 50u) << name;
    for (std::size_t n = 0; n < lines->size(); ++n) {
      ASSERT_EQ((*lines)[n].text, std::to_string(n)) << name << " line " << n;
    }
  }
}

}  // namespace
}  // namespace contd
