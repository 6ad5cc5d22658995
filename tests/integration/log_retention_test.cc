// Log retention end to end (docs/logs.md#retention): the real contd with its retention
// keys in a config file, real containerd, runc and contd-shim-logs, read back with the real
// contctl. A deleted container's log stays readable with `logs --previous` until its time
// or the size limit removes it; a new container of the name starts a fresh log; a log left
// in place by a contd that stopped half-way is retired at the next start.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/support/daemon_fixture.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;

class LogRetentionIT : public support::DaemonFixture {
protected:
  LogRetentionIT() : DaemonFixture({.ns_prefix = "ret", .dir_prefix = "contd-ret"}) {}

  // contd with `config` (a JSON object's text) as its config file.
  void startWith(const std::string& config) {
    const fs::path file = dir_->path() / "retention.json";
    std::ofstream(file) << config;
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--config", file.string()}));
  }

  // `contctl run --rm` in the foreground: the container prints `text` and exits 0.
  void runToCompletion(const std::string& name, const std::string& script) {
    auto run = contctl({"run", "--rm", ns_, name, "--rootfs", rootfs_->path().string(),
                        "--netns", netns_->name(), "--", "/bin/sh", "-c", script});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }

  // A long-running container that printed `text`, then its Delete.
  void runAndRemove(const std::string& name, const std::string& text) {
    ASSERT_EQ(contctl({"run", ns_, name, "--rootfs", rootfs_->path().string(), "--netns",
                       netns_->name(), "--", "/bin/sh", "-c",
                       "trap 'exit 0' TERM; echo " + text + "; while true; do sleep 1 & wait; done"})
                  .exit_code,
              0);
    ASSERT_TRUE(waitForOutput({"logs", ns_, name}, text + "\n")) << "never printed " << text;
    ASSERT_EQ(contctl({"rm", ns_, name}).exit_code, 0);
  }

  // Polls `contctl args` until it exits 0 printing `out`, up to `timeout`.
  bool waitForOutput(const std::vector<std::string>& args, const std::string& out,
                     std::chrono::milliseconds timeout = 10s) {
    for (auto until = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(100ms)) {
      auto result = contctl(args);
      if (result.exit_code == 0 && result.out == out) {
        return true;
      }
    }
    return false;
  }

  // Polls `contctl args` until it fails, up to `timeout`; returns its last stderr.
  std::string waitForFailure(const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout = 10s) {
    for (auto until = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(100ms)) {
      auto result = contctl(args);
      if (result.exit_code != 0) {
        return result.err;
      }
    }
    ADD_FAILURE() << "still succeeds after " << timeout.count() << " ms";
    return "";
  }

  // What one kept log of TheSizeLimitKeepsTheNewestLogs takes on disk, as contd counts it
  // (blocks, as du): a folder with a log of about 1 KiB and a health file of about 100 bytes,
  // made beside the daemon's log root, on the same file system.
  std::uint64_t diskUseOfOneLog() const {
    const fs::path folder = dir_->path() / "sample";
    fs::create_directories(folder);
    std::ofstream(folder / "job.log") << std::string(1100, 'x');
    std::ofstream(folder / ".job.log.health") << std::string(100, 'x');
    std::uint64_t use = 0;
    for (const fs::path& path : {folder, folder / "job.log", folder / ".job.log.health"}) {
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0) {
        use += static_cast<std::uint64_t>(st.st_blocks) * 512;
      }
    }
    fs::remove_all(folder);
    return use;
  }

  // The daemon's log folder of the test's namespace (whether or not contd runs now).
  fs::path nsLogs() const { return dir_->path() / "logs" / ns_; }

  std::size_t retiredFolders() const {
    std::size_t count = 0;
    std::error_code ec;
    for (fs::directory_iterator it(nsLogs() / "deleted", ec), end; !ec && it != end;
         it.increment(ec)) {
      ++count;
    }
    return count;
  }
};

TEST_F(LogRetentionIT, ADeletedLogIsReadableUntilItsTimeAndANewContainerStartsFresh) {
  ASSERT_NO_FATAL_FAILURE(startWith(R"({"log_retention_ms": 5000})"));
  ASSERT_NO_FATAL_FAILURE(runAndRemove("web", "first-life"));
  auto gone = contctl({"logs", ns_, "web"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("was deleted at"), std::string::npos) << gone.err;
  EXPECT_NE(gone.err.find("--previous"), std::string::npos) << gone.err;
  auto previous = contctl({"logs", "--previous", ns_, "web"});
  EXPECT_EQ(previous.exit_code, 0) << previous.err;
  EXPECT_EQ(previous.out, "first-life\n");

  // The name again: its own log only; the kept one is still the previous.
  ASSERT_NO_FATAL_FAILURE(runAndRemove("web", "second-life"));
  EXPECT_EQ(contctl({"logs", "-p", ns_, "web"}).out, "second-life\n");
  EXPECT_EQ(retiredFolders(), 2u);
  auto follow = contctl({"logs", "-f", "-p", ns_, "web"});
  EXPECT_NE(follow.exit_code, 0);
  EXPECT_NE(follow.err.find("follow"), std::string::npos) << follow.err;

  // Five seconds after each deletion, both are gone, and Logs says nothing is kept.
  const std::string err = waitForFailure({"logs", "-p", ns_, "web"}, 15s);
  EXPECT_NE(err.find("no log of a deleted container"), std::string::npos) << err;
  EXPECT_EQ(retiredFolders(), 0u);
  EXPECT_FALSE(fs::exists(nsLogs() / "web.log"));
}

TEST_F(LogRetentionIT, TheSizeLimitKeepsTheNewestLogs) {
  // Each run writes one record of about 1 KiB (and a health file of about 100 bytes): the
  // limit has room for two of them on disk.
  const std::uint64_t one = diskUseOfOneLog();
  ASSERT_GT(one, 1100u);
  ASSERT_NO_FATAL_FAILURE(startWith(R"({"log_retention_size": )" +
                                    std::to_string(2 * one + one / 2) + "}"));
  const std::string script = "i=0; while [ $i -lt 1000 ]; do printf x; i=$((i+1)); done; echo";
  for (int i = 1; i <= 4; ++i) {
    ASSERT_NO_FATAL_FAILURE(runToCompletion("job" + std::to_string(i), script));
  }
  const std::string line = std::string(1000, 'x') + "\n";
  ASSERT_TRUE(waitForOutput({"logs", "-p", ns_, "job4"}, line)) << "job4's log not kept";
  EXPECT_TRUE(waitForOutput({"logs", "-p", ns_, "job3"}, line)) << "job3's log not kept";
  waitForFailure({"logs", "-p", ns_, "job1"});
  waitForFailure({"logs", "-p", ns_, "job2"});
  EXPECT_EQ(retiredFolders(), 2u);
}

TEST_F(LogRetentionIT, ALogLeftInPlaceIsRetiredWhenContdStarts) {
  ASSERT_NO_FATAL_FAILURE(startWith("{}"));
  ASSERT_EQ(contctl({"ns"}).exit_code, 0);
  daemon_.reset();  // stopped, as if between a Delete and the retiring of its log
  fs::create_directories(nsLogs());
  std::ofstream(nsLogs() / "orphan.log") << "2026-12-06T10:00:00.000000000Z stdout F left\n";
  ASSERT_NO_FATAL_FAILURE(startWith("{}"));
  EXPECT_TRUE(waitForOutput({"logs", "-p", ns_, "orphan"}, "left\n"));
  EXPECT_FALSE(fs::exists(nsLogs() / "orphan.log"));
}

}  // namespace
}  // namespace contd
