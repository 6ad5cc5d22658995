// Faults mid-operation: Runs and Deletes interrupted by kill -9 of contd or of containerd,
// timed from contd's own step log lines (`run step=create-container`, `run step=create-task`,
// `delete step=sigterm`). Afterwards every container is running or completely gone: no
// record, task, shim, log driver, bundle, runc state or cgroup is left of a gone one, and
// its name can be used again. Real contd, contctl, containerd, runc and busybox.
//
// CONTD_FAULT_ROUNDS (default 2) sets the rounds per kind of fault, for longer local runs.
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/leftovers.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kInFlight = 4;

int rounds() {
  const char* env = std::getenv("CONTD_FAULT_ROUNDS");
  const int n = env != nullptr ? std::atoi(env) : 0;
  return n > 0 ? n : 2;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}

std::size_t countFrom(const std::string& text, std::size_t from, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle, from); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

class FaultsIT : public support::DaemonFixture {
protected:
  FaultsIT() : DaemonFixture({.ns_prefix = "flt", .dir_prefix = "contd-flt", .contctl_timeout = 60s}) {}

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--log-level", "debug"}));
  }

  fs::path contdLog() const { return dir_->path() / "contd.log"; }
  std::size_t logSize() const { return readFile(contdLog()).size(); }

  // Waits until contd's log, past `from`, holds `needle` `count` times.
  bool waitForLog(std::size_t from, const std::string& needle, std::size_t count,
                  std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (countFrom(readFile(contdLog()), from, needle) >= count) {
        return true;
      }
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  std::vector<std::string> runArgs(const std::string& name) {
    return {"run", ns_, name, "--rootfs", rootfs_->path().string(), "--netns", netns_->name(),
            "--", "/bin/sh", "-c", "trap 'exit 0' TERM; while true; do usleep 50000; done"};
  }

  // Runs every command on a thread of its own; joined by the caller.
  std::vector<std::thread> inFlight(const std::vector<std::vector<std::string>>& commands) {
    std::vector<std::thread> threads;
    for (const auto& args : commands) {
      threads.emplace_back([this, args] { (void)support::runCommand(contctlArgv(args), 60s); });
    }
    return threads;
  }
  std::vector<std::string> contctlArgv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {CONTCTL_BIN, "--socket", daemon_->socketPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // Kills contd or containerd, lets every call end, starts it again, waits for contd's
  // reconcile after that.
  void crashAndRecover(bool containerd, std::vector<std::thread>& threads) {
    const std::size_t from = logSize();
    ASSERT_TRUE(containerd ? containerd_->crash() : daemon_->crash());
    for (auto& thread : threads) {
      thread.join();
    }
    ASSERT_TRUE(containerd ? containerd_->restart() : daemon_->restart());
    ASSERT_TRUE(waitForLog(from, "reconciled containers=", 1, 20s)) << daemon_->logTail();
  }

  // What is left of `name` on the host and in containerd; empty when nothing.
  std::string leftovers(const std::string& name) {
    return support::containerLeftovers({.client = client_.get(),
                                        .containerd_state = fs::path(containerd_->dir()) / "state",
                                        .ns = ns_,
                                        .log_shim = CONTD_SHIM_LOGS_BIN},
                                       name);
  }

  // The files of `name`'s task bundle, to tell what made it (containerd writes config.json
  // last, the shim its address and pid files): " bundle files: a b c", or "".
  std::string bundleFiles(const std::string& name) {
    const fs::path bundle =
        fs::path(containerd_->dir()) / "state" / "io.containerd.runtime.v2.task" / ns_ / name;
    std::error_code ec;
    std::string files;
    for (const auto& entry : fs::directory_iterator(bundle, ec)) {
      files += " " + entry.path().filename().string();
    }
    return ec ? std::string() : " bundle files:" + files;
  }

  bool running(const std::string& name) {
    auto task = client_->getTask(ns_, name);
    return client_->getContainer(ns_, name) && task &&
           task->status == containerd::TaskStatus::kRunning;
  }

  // Every name is running or completely gone (waiting a little for containerd's own
  // clean-up, and up to 8 s for contd's orphan recheck 5 s after its reconcile), then usable: Run again returns or makes it, Delete removes every trace.
  void expectRunningOrGone(const std::vector<std::string>& names, const std::string& fault) {
    for (const auto& name : names) {
      std::string left = leftovers(name);
      for (int i = 0; i < 80 && !running(name) && !left.empty(); ++i) {
        std::this_thread::sleep_for(100ms);
        left = leftovers(name);
      }
      EXPECT_TRUE(running(name) || left.empty())
          << fault << ": " << name << " left" << left << bundleFiles(name)
          << "\ncontd's log lines of " << name << ":\n"
          << daemon_->logLines("id=" + name + " ");
      auto run = contctl(runArgs(name));
      EXPECT_EQ(run.exit_code, 0) << fault << ": " << name << " unusable: " << run.err;
      auto rm = contctl({"rm", ns_, name});
      EXPECT_EQ(rm.exit_code, 0) << fault << ": " << name << ": " << rm.err;
      EXPECT_EQ(leftovers(name), "") << fault << ": after rm of " << name;
    }
  }
};

TEST_F(FaultsIT, InterruptedRunsLeaveRunningOrNothing) {
  const std::vector<std::string> steps = {"run step=create-container", "run step=create-task"};
  int round = 0;
  for (int r = 0; r < rounds(); ++r) {
    for (const bool containerd : {false, true}) {
      for (std::size_t s = 0; s < steps.size(); ++s, ++round) {
        std::vector<std::string> names;
        std::vector<std::vector<std::string>> commands;
        for (int i = 0; i < kInFlight; ++i) {
          names.push_back("r" + std::to_string(round) + "-" + std::to_string(i));
          commands.push_back(runArgs(names.back()));
        }
        const std::size_t from = logSize();
        auto threads = inFlight(commands);
        // The (round % kInFlight + 1)-th Run to reach the step triggers the kill.
        const std::size_t nth = static_cast<std::size_t>(round % kInFlight) + 1;
        EXPECT_TRUE(waitForLog(from, steps[s], nth, 20s)) << daemon_->logTail();
        ASSERT_NO_FATAL_FAILURE(crashAndRecover(containerd, threads));
        const std::string fault = std::string(containerd ? "kill -9 containerd" : "kill -9 contd") +
                                  " at " + steps[s] + " #" + std::to_string(nth);
        ASSERT_NO_FATAL_FAILURE(expectRunningOrGone(names, fault));
      }
    }
  }
}

TEST_F(FaultsIT, InterruptedDeletesFinishOnRetry) {
  int round = 0;
  for (int r = 0; r < rounds(); ++r) {
    for (const bool containerd : {false, true}) {
      std::vector<std::string> names;
      std::vector<std::vector<std::string>> commands;
      for (int i = 0; i < kInFlight; ++i) {
        names.push_back("d" + std::to_string(round) + "-" + std::to_string(i));
        ASSERT_EQ(contctl(runArgs(names.back())).exit_code, 0);
        commands.push_back({"rm", ns_, names.back()});
      }
      const std::size_t from = logSize();
      auto threads = inFlight(commands);
      const std::size_t nth = static_cast<std::size_t>(round % kInFlight) + 1;
      EXPECT_TRUE(waitForLog(from, "delete step=sigterm", nth, 20s)) << daemon_->logTail();
      ASSERT_NO_FATAL_FAILURE(crashAndRecover(containerd, threads));
      for (const auto& name : names) {
        // Running, gone, or marked stopping: a retried Delete finishes it.
        auto rm = contctl({"rm", ns_, name});
        EXPECT_TRUE(rm.exit_code == 0 || rm.err.find("not found") != std::string::npos)
            << name << ": " << rm.err;
        EXPECT_EQ(leftovers(name), "") << (containerd ? "containerd" : "contd") << " killed: "
                                       << name;
      }
      ++round;
    }
  }
}

}  // namespace
}  // namespace contd
