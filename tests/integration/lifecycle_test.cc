// A container's life on real parts (docs/lifecycle.md): the build's contd on a private
// containerd and runc, driven through its gRPC API and contctl. Restart modes, auto_remove
// with Wait, Stop/Start/Restart/Kill, and contctl's run --rm in the foreground; after each,
// what containerd and the host hold is checked (support/leftovers.h).
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "modules/contctl/client.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/leftovers.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class LifecycleIT : public support::DaemonFixture {
protected:
  LifecycleIT()
      : DaemonFixture({.ns_prefix = "life", .dir_prefix = "contd-life", .start_daemon = true}) {}

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    api_ = std::make_unique<contctl::Client>(daemon_->socketPath());
  }

  void TearDown() override {
    api_.reset();
    DaemonFixture::TearDown();
  }

  v1::ContainerSpec spec(const std::string& name, const std::string& script) const {
    v1::ContainerSpec out;
    out.set_name(name);
    out.set_rootfs(rootfs_->path().string());
    out.set_network_namespace(netns_->name());
    for (const auto& arg : {std::string("/bin/sh"), std::string("-c"), script}) {
      out.add_argv(arg);
    }
    return out;
  }

  v1::ContainerInfo inspect(const std::string& name) {
    auto info = api_->inspect(ns_, name);
    EXPECT_TRUE(info) << name << ": " << info.error().message;
    return info ? info->info() : v1::ContainerInfo{};
  }

  // Polls Inspect until `status` (up to 10 s).
  bool reaches(const std::string& name, v1::ContainerInfo::Status status) {
    for (auto until = Clock::now() + 10s; Clock::now() < until;) {
      auto info = api_->inspect(ns_, name);
      if (info && info->info().status() == status) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  bool hasTask(const std::string& name) { return client_->getTask(ns_, name).ok(); }

  // Polls (up to 10 s) until `name` is at rest: STOPPED, desired stopped, its task (and
  // shim) gone, with `exits` exits recorded. STOPPED alone shows as soon as the process
  // exits, before contd has judged the exit.
  bool rests(const std::string& name, int exits) {
    for (auto until = Clock::now() + 10s; Clock::now() < until;) {
      const auto info = inspect(name);
      if (info.status() == v1::ContainerInfo::STOPPED &&
          info.desired_state() == v1::ContainerInfo::DESIRED_STOPPED &&
          info.exits_size() == exits && !hasTask(name)) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::unique_ptr<contctl::Client> api_;
};

TEST_F(LifecycleIT, AutoRemoveRunsToCompletionAndAWaitBegunBeforeGetsTheExit) {
  auto job = spec("job", "sleep 0.5; echo done; exit 3");
  job.set_auto_remove(true);
  ASSERT_TRUE(api_->run(ns_, job)) << daemon_->logTail();
  EXPECT_EQ(inspect("job").spec().restart().mode(), v1::RestartPolicy::NO);
  auto waited = api_->wait(ns_, "job");
  ASSERT_TRUE(waited) << waited.error().message;
  EXPECT_EQ(waited->exit_code(), 3);
  EXPECT_EQ(waited->signal(), 0);
  EXPECT_FALSE(waited->oom_killed());
  EXPECT_TRUE(waited->has_exited_at());
  EXPECT_EQ(settledLeftovers(), "") << "auto_remove left something";
  auto gone = api_->inspect(ns_, "job");
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find("NOT_FOUND"), std::string::npos) << gone.error().message;
  // The log is kept, like any deleted container's, and read with `previous`.
  v1::LogsRequest request;
  request.set_namespace_(ns_);
  request.set_id("job");
  request.set_previous(true);
  std::string text;
  auto read = api_->logs(request, [&](const v1::LogLine& line) { text += line.text() + "\n"; });
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(text, "done\n");
  EXPECT_FALSE(fs::exists(dir_->path() / "logs" / ns_ / "job.log"));
}

TEST_F(LifecycleIT, RestartModesNoAndOnFailureLeaveAnEndedContainerStoppedWithoutAShim) {
  auto once = spec("once", "exit 0");
  once.mutable_restart()->set_mode(v1::RestartPolicy::NO);
  auto fine = spec("fine", "exit 0");
  fine.mutable_restart()->set_mode(v1::RestartPolicy::ON_FAILURE);
  ASSERT_TRUE(api_->run(ns_, once)) << daemon_->logTail();
  ASSERT_TRUE(api_->run(ns_, fine)) << daemon_->logTail();
  for (const char* name : {"once", "fine"}) {
    EXPECT_TRUE(rests(name, 1)) << name << ": not at rest without a task and shim\n"
                                << inspect(name).DebugString();
    const auto info = inspect(name);
    EXPECT_EQ(info.exit_code(), 0) << name;
    EXPECT_EQ(info.restart_count(), 0u) << name;
    auto waited = api_->wait(ns_, name);
    ASSERT_TRUE(waited) << waited.error().message;
    EXPECT_EQ(waited->exit_code(), 0);
  }
  // Start runs it again from its stored spec.
  auto started = api_->start(ns_, "once");
  ASSERT_TRUE(started) << started.error().message;
  EXPECT_GT(started->pid(), 0u);
  // Its second exit recorded, it is at rest again without a task.
  EXPECT_TRUE(rests("once", 2)) << inspect("once").DebugString();
}

TEST_F(LifecycleIT, StopKeepsItDownStartAndRestartRunItKillSignals) {
  ASSERT_TRUE(api_->run(ns_, spec("svc", "trap 'exit 0' TERM; sleep 600 & wait")))
      << daemon_->logTail();
  const auto first_pid = inspect("svc").pid();
  const auto stop_started = Clock::now();
  ASSERT_TRUE(api_->stop(ns_, "svc", 0)) << daemon_->logTail();
  EXPECT_LT(Clock::now() - stop_started, 3s) << "the trap should end it before SIGKILL";
  auto info = inspect("svc");
  EXPECT_EQ(info.status(), v1::ContainerInfo::STOPPED);
  EXPECT_EQ(info.desired_state(), v1::ContainerInfo::DESIRED_STOPPED);
  EXPECT_EQ(info.exit_code(), 0);
  EXPECT_FALSE(hasTask("svc"));
  std::this_thread::sleep_for(1500ms);  // past the daemon's first restart delay
  EXPECT_EQ(inspect("svc").status(), v1::ContainerInfo::STOPPED) << "Stop did not keep it down";

  auto started = api_->start(ns_, "svc");
  ASSERT_TRUE(started) << started.error().message;
  EXPECT_NE(started->pid(), first_pid);
  EXPECT_EQ(inspect("svc").status(), v1::ContainerInfo::RUNNING);
  auto restarted = api_->restart(ns_, "svc", 0);
  ASSERT_TRUE(restarted) << restarted.error().message;
  EXPECT_NE(restarted->pid(), started->pid());

  // A waiter sees the kill's exit: 128+9, signal 9.
  auto waiting = std::async(std::launch::async, [&] {
    contctl::Client own(daemon_->socketPath());
    return own.wait(ns_, "svc");
  });
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(api_->kill(ns_, "svc", SIGKILL));
  ASSERT_EQ(waiting.wait_for(10s), std::future_status::ready);
  auto waited = waiting.get();
  ASSERT_TRUE(waited) << waited.error().message;
  EXPECT_EQ(waited->exit_code(), 128 + SIGKILL);
  EXPECT_EQ(waited->signal(), SIGKILL);
  // Kill is not Stop: the always mode restarts it (the count is saved once it runs).
  bool back = false;
  for (auto until = Clock::now() + 10s; !back && Clock::now() < until;) {
    std::this_thread::sleep_for(20ms);
    const auto info = inspect("svc");
    back = info.status() == v1::ContainerInfo::RUNNING && info.restart_count() == 1;
  }
  EXPECT_TRUE(back) << inspect("svc").DebugString();
  ASSERT_TRUE(api_->remove(ns_, "svc"));
  auto refused = api_->kill(ns_, "svc", SIGTERM);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("NOT_FOUND"), std::string::npos);
  EXPECT_EQ(settledLeftovers(), "");
}

TEST_F(LifecycleIT, ContctlRunRmInTheForegroundPrintsTheOutputAndExitsWithItsCode) {
  const auto run = contctl({"run", ns_, "fg", "--rm", "--rootfs", rootfs_->path().string(),
                            "--netns", netns_->name(), "--", "/bin/sh", "-c",
                            "echo one; echo two >&2; sleep 0.2; echo three; exit 5"});
  EXPECT_EQ(run.exit_code, 5) << run.err;
  EXPECT_EQ(run.out, "one\nthree\n");
  EXPECT_EQ(run.err, "two\n");
  EXPECT_EQ(settledLeftovers(), "");

  // Detached, then the verbs.
  const auto detached = contctl({"run", ns_, "bg", "-d", "--rm", "--rootfs",
                                 rootfs_->path().string(), "--netns", netns_->name(), "--",
                                 "/bin/sh", "-c", "sleep 600"});
  ASSERT_EQ(detached.exit_code, 0) << detached.err;
  EXPECT_EQ(detached.out, "bg\n");
  const auto bad = contctl({"run", ns_, "x", "--rm", "--restart", "always", "--rootfs",
                            rootfs_->path().string(), "--netns", netns_->name(), "--", "/bin/true"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("auto_remove"), std::string::npos) << bad.err;
  auto waiter = std::async(std::launch::async, [&] { return contctl({"wait", ns_, "bg"}); });
  std::this_thread::sleep_for(300ms);
  const auto killed = contctl({"kill", "-s", "KILL", ns_, "bg"});
  EXPECT_EQ(killed.exit_code, 0) << killed.err;
  const auto waited = waiter.get();
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_EQ(waited.out, "137\n");
  EXPECT_EQ(settledLeftovers(), "");
}

}  // namespace
}  // namespace contd
