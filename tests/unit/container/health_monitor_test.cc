// The HealthMonitor against the in-memory containerd, with a probe the test scripts instead
// of an exec: transitions and their events, the start period, what an unhealthy container's
// restart mode makes of it (through the Supervisor), what is not checked, periodic checks
// and stopping. Real containers: tests/integration/health_test.cc.

#include "modules/container/health_monitor.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/unit/container/supervised_service.h"

namespace contd::container {
namespace {

using Kind = ModuleEvent::Kind;
using Clock = std::chrono::steady_clock;

class HealthMonitorTest : public SupervisedServiceTest {
protected:
  void SetUp() override {
    SupervisedServiceTest::SetUp();
    options_.health_probe = [this](std::string_view, std::string_view id,
                                   const std::vector<std::string>& argv,
                                   std::chrono::milliseconds,
                                   const std::function<bool()>& cancelled) -> Result<ExecResult> {
      {
        std::lock_guard lock(mu_);
        calls_[std::string(id)] += 1;
      }
      EXPECT_EQ(argv, std::vector<std::string>({"/bin/true", "check"}));
      if (during_) {
        during_(cancelled);
      }
      if (cancelled()) {
        return Error{Code::kCancelled, "exec cut short"};  // what a cut exec answers
      }
      const int code = exit_code_.load();
      if (code < 0) {
        return unavailable("exec: containerd is gone");
      }
      return ExecResult{.exit_code = code, .output = code == 0 ? "fine\n" : "broken\n"};
    };
    service_ = std::make_unique<ContainerService>(fake_, options_);
    events_ = service_->events().listen();
  }

  HealthMonitor& health() { return service_->health(); }

  // A container with a health check (every second) of `retries`, in restart mode `mode`.
  void runChecked(const std::string& name, std::uint32_t retries, RestartMode mode,
                  std::chrono::milliseconds start_period = {}) {
    run(name, [&](ContainerSpec& spec) {
      spec.restart = mode;
      spec.health = HealthCheckSpec{.argv = {"/bin/true", "check"},
                                    .interval = std::chrono::milliseconds(1000),
                                    .retries = retries,
                                    .start_period = start_period};
    });
  }

  HealthCheckRun check(const std::string& id) {
    auto run = health().runNow("ns1", id);
    EXPECT_TRUE(run) << run.error().message;
    return run ? *run : HealthCheckRun{};
  }

  // The health events of `id` queued so far (others dropped).
  std::vector<ModuleEvent> healthEvents(const std::string& id) {
    std::vector<ModuleEvent> out;
    while (auto event = events_->next(std::chrono::milliseconds(50))) {
      if (event->id == id && (event->kind == Kind::kHealthy || event->kind == Kind::kUnhealthy)) {
        out.push_back(*event);
      }
    }
    return out;
  }

  int calls(const std::string& id) {
    std::lock_guard lock(mu_);
    return calls_[id];
  }

  std::atomic<int> exit_code_{0};
  std::function<void(const std::function<bool()>&)> during_;
  std::mutex mu_;
  std::map<std::string, int> calls_;
};

TEST_F(HealthMonitorTest, EachTransitionPublishesOneEventAndInspectShowsTheState) {
  ASSERT_NO_FATAL_FAILURE(runChecked("web", 2, RestartMode::kNo));
  EXPECT_EQ(inspect("web").health, HealthState{}) << "starting before any check";
  auto first = check("web");
  EXPECT_EQ(first.result.exit_code, 0);
  EXPECT_EQ(first.result.output, "fine\n");
  EXPECT_GE(first.result.end, first.result.start);
  EXPECT_EQ(first.state.status, HealthStatus::kHealthy);
  check("web");
  auto events = healthEvents("web");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kHealthy);

  exit_code_ = 3;
  EXPECT_EQ(check("web").state.status, HealthStatus::kHealthy) << "1 failure of 2";
  auto second = check("web");
  EXPECT_EQ(second.state.status, HealthStatus::kUnhealthy);
  EXPECT_EQ(second.state.failing_streak, 2u);
  EXPECT_EQ(second.result.exit_code, 3);
  check("web");
  events = healthEvents("web");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kUnhealthy);
  EXPECT_NE(events[0].message.find("left running"), std::string::npos) << events[0].message;

  const auto info = inspect("web");
  ASSERT_TRUE(info.health);
  EXPECT_EQ(info.health->status, HealthStatus::kUnhealthy);
  EXPECT_EQ(info.health->failing_streak, 3u);
  ASSERT_EQ(info.health->log.size(), 5u);
  EXPECT_EQ(info.health->log.back().output, "broken\n");
  EXPECT_EQ(info.status, ContainerStatus::kRunning) << "restart mode no leaves it running";
  EXPECT_TRUE(fake_.signals("ns1", "web").empty());

  exit_code_ = 0;
  check("web");
  events = healthEvents("web");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kHealthy);
}

TEST_F(HealthMonitorTest, FailuresInTheStartPeriodDoNotCount) {
  ASSERT_NO_FATAL_FAILURE(runChecked("slow", 1, RestartMode::kAlways, std::chrono::hours(1)));
  exit_code_ = 1;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(check("slow").state.status, HealthStatus::kStarting);
  }
  EXPECT_EQ(check("slow").state.failing_streak, 0u);
  EXPECT_TRUE(healthEvents("slow").empty());
  exit_code_ = 0;
  EXPECT_EQ(check("slow").state.status, HealthStatus::kHealthy);
}

TEST_F(HealthMonitorTest, AnUnhealthyAlwaysContainerIsEndedAndRestartedByTheSupervisor) {
  ASSERT_NO_FATAL_FAILURE(runChecked("svc", 1, RestartMode::kAlways));
  ASSERT_NO_FATAL_FAILURE(start());
  const auto pid = inspect("svc").pid;
  exit_code_ = 1;
  EXPECT_EQ(check("svc").state.status, HealthStatus::kUnhealthy);
  auto unhealthy = waitFor(Kind::kUnhealthy, "svc");
  ASSERT_TRUE(unhealthy);
  EXPECT_NE(unhealthy->message.find("ended for restart mode always"), std::string::npos)
      << unhealthy->message;
  auto exited = waitFor(Kind::kExited, "svc");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->message, "unhealthy");
  ASSERT_TRUE(waitFor(Kind::kBackingOff, "svc"));
  ASSERT_TRUE(waitFor(Kind::kRestarted, "svc"));
  const auto info = inspect("svc");
  EXPECT_EQ(info.status, ContainerStatus::kRunning);
  EXPECT_NE(info.pid, pid);
  EXPECT_EQ(info.restart_count, 1u);
  ASSERT_EQ(info.exits.size(), 1u);
  EXPECT_TRUE(info.exits[0].unhealthy);
  EXPECT_EQ(info.exits[0].code, 128 + SIGTERM) << "ended like Stop ends it";
  ASSERT_TRUE(info.health);
  EXPECT_EQ(info.health->status, HealthStatus::kStarting) << "a new process starts again";
  EXPECT_EQ(info.health->log.size(), 1u) << "the log is kept";
}

TEST_F(HealthMonitorTest, AnUnhealthyOnFailureContainerIsRestartedAndGivesUpLikeAnyFailure) {
  run("flaky", [](ContainerSpec& spec) {
    spec.restart = RestartMode::kOnFailure;
    spec.restart_max = 1;
    spec.health = HealthCheckSpec{.argv = {"/bin/true", "check"}, .retries = 1};
  });
  ASSERT_NO_FATAL_FAILURE(start());
  exit_code_ = 1;
  check("flaky");
  ASSERT_TRUE(waitFor(Kind::kRestarted, "flaky"));
  check("flaky");
  auto gave_up = waitFor(Kind::kGaveUp, "flaky");
  ASSERT_TRUE(gave_up) << "on-failure:1 gives up at the second failure";
  EXPECT_EQ(inspect("flaky").status, ContainerStatus::kFailed);
}

TEST_F(HealthMonitorTest, WhatIsNotThereToCheckIsNotChecked) {
  ASSERT_NO_FATAL_FAILURE(runChecked("going", 1, RestartMode::kAlways));
  ASSERT_NO_FATAL_FAILURE(run("plain"));
  ASSERT_NO_FATAL_FAILURE(runChecked("stopped", 1, RestartMode::kAlways));
  fake_.ignoreSigterm("ns1", "going");
  ASSERT_TRUE(service_->signalDelete("ns1", "going"));
  ASSERT_TRUE(service_->control().stop("ns1", "stopped"));
  const std::pair<const char*, Code> cases[] = {{"going", Code::kFailedPrecondition},
                                                {"plain", Code::kFailedPrecondition},
                                                {"stopped", Code::kFailedPrecondition},
                                                {"ghost", Code::kNotFound},
                                                {"bad name", Code::kInvalidArgument}};
  for (const auto& [id, code] : cases) {
    auto refused = health().runNow("ns1", id);
    ASSERT_FALSE(refused) << id;
    EXPECT_EQ(refused.error().code, code) << id << ": " << refused.error().message;
    EXPECT_EQ(calls(id), 0) << id << " was checked";
  }
  EXPECT_NE(health().runNow("ns1", "plain").error().message.find("no health check"),
            std::string::npos);
  EXPECT_FALSE(inspect("plain").health);
}

TEST_F(HealthMonitorTest, AResultArrivingAfterADeleteIsDropped) {
  ASSERT_NO_FATAL_FAILURE(runChecked("web", 1, RestartMode::kAlways));
  exit_code_ = 1;
  during_ = [this](const std::function<bool()>&) {
    ASSERT_TRUE(service_->remove("ns1", "web"));  // the check holds no lock meanwhile
  };
  auto dropped = health().runNow("ns1", "web");
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().code, Code::kNotFound) << dropped.error().message;
  EXPECT_TRUE(healthEvents("web").empty());
  EXPECT_FALSE(health().state("ns1", "web", 0));
}

TEST_F(HealthMonitorTest, ChecksRunOnTheirIntervalFromStartToStop) {
  ASSERT_NO_FATAL_FAILURE(runChecked("early", 3, RestartMode::kAlways));
  health().start();
  ASSERT_NO_FATAL_FAILURE(runChecked("late", 3, RestartMode::kAlways));
  std::set<std::string> healthy;  // in either order
  for (auto until = Clock::now() + std::chrono::seconds(4);
       healthy.size() < 2 && Clock::now() < until;) {
    if (auto event = events_->next(std::chrono::milliseconds(50));
        event && event->kind == Kind::kHealthy) {
      healthy.insert(event->id);
    }
  }
  ASSERT_EQ(healthy, (std::set<std::string>{"early", "late"})) << "not both were checked";
  // Stop: no more checks of that container; the state stays.
  ASSERT_TRUE(service_->control().stop("ns1", "late"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int before = calls("late");
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  EXPECT_EQ(calls("late"), before) << "a stopped container was checked";
  EXPECT_GE(calls("early"), 2) << "checks did not go on";
  ASSERT_TRUE(inspect("late").health);
  EXPECT_EQ(inspect("late").health->status, HealthStatus::kHealthy);
}

TEST_F(HealthMonitorTest, StopCutsARunningCheckShort) {
  ASSERT_NO_FATAL_FAILURE(runChecked("hang", 3, RestartMode::kAlways));
  std::atomic<bool> running{false};
  during_ = [&](const std::function<bool()>& cancelled) {
    running = true;
    const auto until = Clock::now() + std::chrono::seconds(20);
    while (!cancelled() && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  health().start();
  for (auto until = Clock::now() + std::chrono::seconds(4); !running && Clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(running) << "no check began";
  const auto stopping = Clock::now();
  health().stop();
  EXPECT_LT(Clock::now() - stopping, std::chrono::seconds(2));
}

TEST_F(HealthMonitorTest, TheDefaultProbeIsAnExecThatCanBeCancelled) {
  ASSERT_NO_FATAL_FAILURE(run("web"));
  fake_.setExecResult("ns1", "web", {.exit_code = std::nullopt, .output = ""});  // runs on
  auto cut = service_->exec("ns1", "web", {"/bin/sleep", "1000"}, std::chrono::seconds(30),
                            {.cancelled = [] { return true; }, .quiet = true});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Code::kCancelled);
  EXPECT_TRUE(fake_.execs("ns1", "web").empty()) << "the cut process was not deleted";
}

}  // namespace
}  // namespace contd::container
