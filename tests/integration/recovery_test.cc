// What survives what: containers and every line of their output outlive kill -9 of contd,
// kill -9 of containerd, and an ordinary restart of contd. Real contd, contctl, containerd,
// runc; ten containers each printing a counter every 10 ms.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/container/log_reader.h"
#include "modules/container/retired_logs.h"
#include "tests/integration/support/daemon_fixture.h"

namespace contd {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;

constexpr int kContainers = 10;

// The test crashes and restarts the suite's containerd; with one test per suite (and with
// ctest) that containerd is the test's own.
class RecoveryIT : public support::DaemonFixture {
protected:
  RecoveryIT()
      : DaemonFixture({.ns_prefix = "rec",
                       .dir_prefix = "contd-rec",
                       .start_daemon = true,
                       .contctl_timeout = 60s}) {}

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
    // Deleted, so its log is kept apart (docs/logs.md#retention).
    const auto kept = container::newestRetired(daemon_->logRoot(), ns_, name);
    ASSERT_TRUE(kept) << name << "'s log was not kept";
    auto lines = container::readLog(kept->log, {});
    ASSERT_TRUE(lines) << lines.error().message;
    ASSERT_GT(lines->size(), 50u) << name;
    for (std::size_t n = 0; n < lines->size(); ++n) {
      ASSERT_EQ((*lines)[n].text, std::to_string(n)) << name << " line " << n;
    }
  }
}

}  // namespace
}  // namespace contd
