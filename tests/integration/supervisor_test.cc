// The supervisor on real parts: restart policy, give-up, exits recorded in containerd, OOM,
// reconcile; plus Exec and Stats. A private containerd, runc, busybox and a real netns.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include "modules/container/supervisor.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "modules/common/logging.h"
#include "modules/container/lifecycle_labels.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/service_fixture.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::container {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Kind = ModuleEvent::Kind;

class SupervisorIT : public support::ServiceFixture {
protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    if (service_) {
      events_ = service_->events().listen();
    }
  }

  void startSupervisor(RestartPolicy policy) {
    supervisor_ = std::make_unique<Supervisor>(*client_, service_->store(), service_->tasks(),
                                               service_->events(), policy);
    supervisor_->start();
    ASSERT_TRUE(supervisor_->waitUntilWatching(10s));
  }

  void TearDown() override {
    supervisor_.reset();
    ServiceFixture::TearDown();
  }

  ContainerSpec spec(const std::string& name, const std::string& script) const {
    ContainerSpec s;
    s.name = name;
    s.rootfs = rootfs_->path().string();
    s.argv = {"/bin/sh", "-c", script};
    s.network_namespace = netns_->name();
    return s;
  }

  static std::string longRunning() {
    return "trap 'exit 0' TERM; while true; do sleep 1 & wait; done";
  }

  // The next event of `kind` for `id`, skipping others; nullopt after `timeout`.
  std::optional<ModuleEvent> waitFor(Kind kind, const std::string& id,
                                     std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto event = events_->next(left);
      if (event && event->kind == kind && event->id == id) {
        return event;
      }
    }
    return std::nullopt;
  }

  std::unique_ptr<Supervisor> supervisor_;
  std::shared_ptr<EventBus::Listener> events_;
};

RestartPolicy fastPolicy() {
  RestartPolicy policy;
  policy.initial_delay = 200ms;
  policy.max_delay = 2s;
  policy.max_failures = 3;
  policy.window = 60s;
  return policy;
}

TEST_F(SupervisorIT, CrashingContainerIsRestartedWithGrowingDelaysThenGivenUp) {
  startSupervisor(fastPolicy());
  ASSERT_TRUE(service_->run(ns_, spec("crasher", "exit 3")));

  std::vector<Clock::time_point> restarts;
  for (int i = 0; i < 3; ++i) {
    auto exited = waitFor(Kind::kExited, "crasher");
    ASSERT_TRUE(exited) << "exit " << i;
    EXPECT_EQ(exited->exit_code, 3);
    ASSERT_TRUE(waitFor(Kind::kRestarted, "crasher")) << "restart " << i;
    restarts.push_back(Clock::now());
  }
  ASSERT_TRUE(waitFor(Kind::kGaveUp, "crasher"));
  // 200 ms, 400 ms, 800 ms: each wait longer than the one before.
  EXPECT_GT(restarts[2] - restarts[1], restarts[1] - restarts[0]);

  auto info = service_->inspect(ns_, "crasher");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->status, ContainerStatus::kFailed);
  EXPECT_EQ(info->restart_count, 3u);
  ASSERT_EQ(info->exits.size(), 4u);
  for (const auto& exit : info->exits) {
    EXPECT_EQ(exit.code, 3);
    EXPECT_FALSE(exit.oom_killed);
  }
  // The record in containerd holds the same: it survives contd.
  auto record = client_->getContainer(ns_, "crasher");
  ASSERT_TRUE(record);
  EXPECT_EQ(lifecycleFrom(record->labels).exits.size(), 4u);
  EXPECT_EQ(lifecycleFrom(record->labels).state, PolicyState::kFailed);
}

TEST_F(SupervisorIT, BackingOffShowsInInspectWithTheNextRetry) {
  RestartPolicy policy = fastPolicy();
  policy.initial_delay = 3s;
  startSupervisor(policy);
  ASSERT_TRUE(service_->run(ns_, spec("slow", "exit 1")));
  ASSERT_TRUE(waitFor(Kind::kBackingOff, "slow"));
  auto info = service_->inspect(ns_, "slow");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, ContainerStatus::kBackingOff);
  EXPECT_GT(info->next_retry, unixNanosNow());
  EXPECT_EQ(info->exit_code, 1);
}

TEST_F(SupervisorIT, DeletedOrSignalledContainersAreNeverRestarted) {
  startSupervisor(fastPolicy());
  ASSERT_TRUE(service_->run(ns_, spec("deleted", longRunning())));
  ASSERT_TRUE(service_->run(ns_, spec("signalled", longRunning())));
  ASSERT_TRUE(service_->remove(ns_, "deleted"));
  ASSERT_TRUE(service_->signalDelete(ns_, "signalled"));
  auto exited = waitFor(Kind::kExited, "signalled");
  ASSERT_TRUE(exited);
  EXPECT_FALSE(waitFor(Kind::kRestarted, "signalled", 1500ms));
  auto info = service_->inspect(ns_, "signalled");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, ContainerStatus::kStopped);
  EXPECT_TRUE(info->stopping);
  EXPECT_EQ(info->restart_count, 0u);
  EXPECT_EQ(client_->getContainer(ns_, "deleted").error().code, Code::kNotFound);
}

TEST_F(SupervisorIT, OomKillIsRecorded) {
  startSupervisor(fastPolicy());
  auto s = spec("hog", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done");
  s.memory_bytes = 16ull << 20;
  ASSERT_TRUE(service_->run(ns_, s));
  ASSERT_TRUE(waitFor(Kind::kOom, "hog", 20s));
  auto exited = waitFor(Kind::kExited, "hog");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->exit_code, 137);
  EXPECT_EQ(exited->message, "oom-killed");
  auto info = service_->inspect(ns_, "hog");
  ASSERT_TRUE(info);
  ASSERT_FALSE(info->exits.empty());
  EXPECT_TRUE(info->exits.front().oom_killed);
}

TEST_F(SupervisorIT, ReconcileAdoptsRunningRestartsStoppedAndDiscardsHalfCreated) {
  // Made while no supervisor watched: one running, one that exits, one half-created.
  ASSERT_TRUE(service_->run(ns_, spec("runner", longRunning())));
  ASSERT_TRUE(service_->run(ns_, spec("quitter", "sleep 0.2; exit 4")));
  const auto runner_pid = service_->inspect(ns_, "runner")->pid;
  containerd::ContainerRecord half = client_->getContainer(ns_, "runner").value();
  half.id = "half";
  ASSERT_TRUE(client_->createContainer(ns_, half));
  ASSERT_TRUE(client_->waitTask(ns_, "quitter", 10s));

  startSupervisor(fastPolicy());
  ASSERT_TRUE(waitFor(Kind::kRestarted, "quitter"));
  EXPECT_EQ(service_->inspect(ns_, "runner")->pid, runner_pid);
  EXPECT_EQ(service_->inspect(ns_, "runner")->restart_count, 0u);
  EXPECT_EQ(client_->getContainer(ns_, "half").error().code, Code::kNotFound);
  auto quitter = service_->inspect(ns_, "quitter");
  ASSERT_TRUE(quitter);
  EXPECT_EQ(quitter->restart_count, 1u);
  ASSERT_FALSE(quitter->exits.empty());
  EXPECT_EQ(quitter->exits.front().code, 4);
}

TEST_F(SupervisorIT, ExecReturnsOutputAndExitCodeAndKillsOnTimeout) {
  ASSERT_TRUE(service_->run(ns_, spec("box", longRunning())));
  auto echo = service_->exec(ns_, "box", {"/bin/echo", "hello", "exec"}, 5s);
  ASSERT_TRUE(echo) << echo.error().message;
  EXPECT_EQ(echo->exit_code, 0);
  EXPECT_EQ(echo->output, "hello exec\n");
  EXPECT_FALSE(echo->timed_out);

  auto failing = service_->exec(ns_, "box", {"/bin/sh", "-c", "echo oops >&2; exit 5"}, 5s);
  ASSERT_TRUE(failing) << failing.error().message;
  EXPECT_EQ(failing->exit_code, 5);
  EXPECT_EQ(failing->output, "oops\n");

  const auto started = Clock::now();
  auto slow = service_->exec(ns_, "box", {"/bin/sleep", "100"}, 500ms);
  ASSERT_TRUE(slow) << slow.error().message;
  EXPECT_TRUE(slow->timed_out);
  EXPECT_EQ(slow->exit_code, 137);
  EXPECT_LT(Clock::now() - started, 5s);

  auto stopped = service_->exec(ns_, "ghost", {"/bin/true"}, 1s);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, Code::kNotFound);
}

TEST_F(SupervisorIT, StatsReportTheCgroupFigures) {
  auto s = spec("measured", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; " + longRunning());
  s.memory_bytes = 48ull << 20;
  s.pids_limit = 64;
  ASSERT_TRUE(service_->run(ns_, s));
  std::this_thread::sleep_for(500ms);
  auto stats = service_->stats(ns_, "measured");
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->memory_limit_bytes, 48ull << 20);
  EXPECT_GT(stats->memory_usage_bytes, 0u);
  EXPECT_GE(stats->pids_current, 1u);
  EXPECT_EQ(stats->pids_limit, 64u);
  EXPECT_GT(stats->cpu_usage_ns, 0u);
}

}  // namespace
}  // namespace contd::container
