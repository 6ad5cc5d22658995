// Restart modes, auto_remove, Stop/Start/Restart/Kill and Wait against the in-memory
// containerd with a running Supervisor (docs/lifecycle.md). Real timing and real runc:
// tests/integration/lifecycle_test.cc.

#include "modules/container/control.h"

#include <signal.h>

#include <future>

#include <gtest/gtest.h>

#include "tests/unit/container/supervised_service.h"

namespace contd::container {
namespace {

using Kind = ModuleEvent::Kind;

class ControlTest : public SupervisedServiceTest {
protected:
  ContainerControl& control() { return service_->control(); }
  static auto restart(RestartMode mode, std::uint32_t max = 0) {
    return [=](ContainerSpec& spec) {
      spec.restart = mode;
      spec.restart_max = max;
    };
  }
  Result<WaitResult> waitNow(const std::string& id) {
    return control().wait("ns1", id, [] { return true; });
  }
};

TEST_F(ControlTest, UnsetModeIsAlwaysAndInspectShowsTheResolvedMode) {
  ASSERT_NO_FATAL_FAILURE(run("plain"));
  ASSERT_NO_FATAL_FAILURE(run("once", [](ContainerSpec& s) { s.auto_remove = true; }));
  EXPECT_EQ(inspect("plain").spec.restart, RestartMode::kAlways);
  EXPECT_EQ(inspect("once").spec.restart, RestartMode::kNo);
  EXPECT_EQ(inspect("plain").desired, DesiredState::kRunning);
}

TEST_F(ControlTest, ModeNoLeavesTheContainerStoppedWithoutATask) {
  ASSERT_NO_FATAL_FAILURE(run("job", restart(RestartMode::kNo)));
  ASSERT_NO_FATAL_FAILURE(start());
  fake_.exitTask("ns1", "job", 0);
  ASSERT_TRUE(waitFor(Kind::kExited, "job"));
  EXPECT_FALSE(waitFor(Kind::kBackingOff, "job", 300ms));
  const auto info = inspect("job");
  EXPECT_EQ(info.status, ContainerStatus::kStopped);
  EXPECT_EQ(info.desired, DesiredState::kStopped);
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_FALSE(fake_.hasTask("ns1", "job")) << "a stopped container keeps no shim";
  auto waited = waitNow("job");
  ASSERT_TRUE(waited) << waited.error().message;
  EXPECT_EQ(waited->exit.code, 0);
}

TEST_F(ControlTest, OnFailureRestartsFailuresOnlyAndGivesUpAfterItsMax) {
  ASSERT_NO_FATAL_FAILURE(run("flaky", restart(RestartMode::kOnFailure, 2)));
  ASSERT_NO_FATAL_FAILURE(start());
  for (int i = 0; i < 2; ++i) {
    fake_.exitTask("ns1", "flaky", 1);
    ASSERT_TRUE(waitFor(Kind::kRestarted, "flaky")) << "restart " << i;
  }
  fake_.exitTask("ns1", "flaky", 1);
  auto gave_up = waitFor(Kind::kGaveUp, "flaky");
  ASSERT_TRUE(gave_up);
  EXPECT_NE(gave_up->message.find("on-failure:2"), std::string::npos) << gave_up->message;
  EXPECT_EQ(inspect("flaky").status, ContainerStatus::kFailed);

  ASSERT_NO_FATAL_FAILURE(run("done", restart(RestartMode::kOnFailure)));
  fake_.exitTask("ns1", "done", 0);
  ASSERT_TRUE(waitFor(Kind::kExited, "done"));
  EXPECT_FALSE(waitFor(Kind::kBackingOff, "done", 300ms)) << "exit 0 is no failure";
  EXPECT_EQ(inspect("done").status, ContainerStatus::kStopped);
}

TEST_F(ControlTest, AutoRemoveRemovesAfterTheExitAndAWaitBegunBeforeGetsIt) {
  ASSERT_NO_FATAL_FAILURE(run("req", [](ContainerSpec& s) { s.auto_remove = true; }));
  ASSERT_NO_FATAL_FAILURE(start());
  auto waiting = std::async(std::launch::async, [&] {
    return control().wait("ns1", "req", [] { return false; });
  });
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout) << "answered while running";
  fake_.exitTask("ns1", "req", 7);
  ASSERT_EQ(waiting.wait_for(3s), std::future_status::ready);
  auto waited = waiting.get();
  ASSERT_TRUE(waited) << waited.error().message;
  EXPECT_EQ(waited->exit.code, 7);
  auto deleted = waitFor(Kind::kDeleted, "req");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->message, "auto-remove");
  EXPECT_EQ(deleted->exit_code, 7);  // the exit that removed it, for a later Wait
  EXPECT_FALSE(fake_.hasContainer("ns1", "req"));
  EXPECT_FALSE(fake_.hasTask("ns1", "req"));
  auto after = waitNow("req");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, Code::kNotFound);
}

TEST_F(ControlTest, AnAutoRemoveExitIsNotWrittenToTheRecordAndWaitStillGetsIt) {
  ASSERT_NO_FATAL_FAILURE(run("req", [](ContainerSpec& s) { s.auto_remove = true; }));
  ASSERT_NO_FATAL_FAILURE(start());
  fake_.failNext("deleteTask", Code::kUnavailable);  // the removal waits for a retry
  fake_.exitTask("ns1", "req", 5);
  ASSERT_TRUE(waitFor(Kind::kExited, "req"));
  // The record goes next, so the exit is not written into it (one write less)...
  ASSERT_TRUE(fake_.hasContainer("ns1", "req"));
  auto labels = fake_.record("ns1", "req").labels;
  EXPECT_EQ(labels[kStateLabel], "");
  EXPECT_EQ(labels[kExitsLabel], "");
  // ...and a Wait meanwhile reads it off the stopped task.
  auto waited = waitNow("req");
  ASSERT_TRUE(waited) << waited.error().message;
  EXPECT_EQ(waited->exit.code, 5);
}

TEST_F(ControlTest, AWaitThatOnlySeesTheAutoRemoveGetsTheExitItCarries) {
  ASSERT_NO_FATAL_FAILURE(run("req", [](ContainerSpec& s) { s.auto_remove = true; }));
  ASSERT_NO_FATAL_FAILURE(start());
  auto waiting = std::async(std::launch::async, [&] {
    return control().wait("ns1", "req", [] { return false; });
  });
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout) << "answered while running";
  // What a Wait begun between the task's removal and the record's sees: the deletion.
  service_->events().publish({.kind = Kind::kDeleted,
                              .ns = "ns1",
                              .id = "req",
                              .time = 1234,
                              .exit_code = 137,
                              .message = "auto-remove oom-killed"});
  ASSERT_EQ(waiting.wait_for(3s), std::future_status::ready);
  auto waited = waiting.get();
  ASSERT_TRUE(waited) << waited.error().message;
  EXPECT_EQ(waited->exit.code, 137);
  EXPECT_EQ(waited->exit.time, 1234);
  EXPECT_TRUE(waited->exit.oom_killed);
  EXPECT_EQ(waited->signal, 9);
}

TEST_F(ControlTest, StopOfAnAutoRemoveContainerRemovesIt) {
  ASSERT_NO_FATAL_FAILURE(run("once", [](ContainerSpec& s) { s.auto_remove = true; }));
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_TRUE(control().stop("ns1", "once"));
  auto deleted = waitFor(Kind::kDeleted, "once");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->message, "auto-remove");
  EXPECT_FALSE(fake_.hasContainer("ns1", "once"));
}

TEST_F(ControlTest, StopKeepsTheContainerDownAndStartRunsItAgain) {
  ASSERT_NO_FATAL_FAILURE(run("web"));
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_TRUE(control().stop("ns1", "web"));
  ASSERT_TRUE(waitFor(Kind::kStopped, "web"));
  EXPECT_FALSE(waitFor(Kind::kBackingOff, "web", 300ms)) << "an always container was restarted";
  auto info = inspect("web");
  EXPECT_EQ(info.status, ContainerStatus::kStopped);
  EXPECT_EQ(info.desired, DesiredState::kStopped);
  EXPECT_EQ(info.exit_code, 128 + SIGTERM);
  EXPECT_FALSE(fake_.hasTask("ns1", "web"));
  EXPECT_TRUE(control().stop("ns1", "web")) << "Stop of a stopped container is OK";

  auto pid = control().start("ns1", "web");
  ASSERT_TRUE(pid) << pid.error().message;
  ASSERT_TRUE(waitFor(Kind::kStarted, "web"));
  info = inspect("web");
  EXPECT_EQ(info.status, ContainerStatus::kRunning);
  EXPECT_EQ(info.desired, DesiredState::kRunning);
  EXPECT_EQ(info.restart_count, 0u);
  auto again = control().start("ns1", "web");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *pid) << "Start of a running container leaves it alone";
  // And the policy is back: an exit is restarted.
  fake_.exitTask("ns1", "web", 1);
  EXPECT_TRUE(waitFor(Kind::kRestarted, "web"));
}

TEST_F(ControlTest, StartRunsAFailedContainerAndRestartStopsThenStarts) {
  ASSERT_NO_FATAL_FAILURE(run("crash", restart(RestartMode::kOnFailure, 1)));
  ASSERT_NO_FATAL_FAILURE(start());
  fake_.exitTask("ns1", "crash", 2);
  ASSERT_TRUE(waitFor(Kind::kRestarted, "crash"));
  fake_.exitTask("ns1", "crash", 2);
  ASSERT_TRUE(waitFor(Kind::kGaveUp, "crash"));
  ASSERT_TRUE(control().start("ns1", "crash"));
  EXPECT_EQ(inspect("crash").status, ContainerStatus::kRunning);
  auto restarted = control().restart("ns1", "crash");
  ASSERT_TRUE(restarted) << restarted.error().message;
  ASSERT_TRUE(waitFor(Kind::kStopped, "crash"));
  EXPECT_EQ(inspect("crash").status, ContainerStatus::kRunning);
}

TEST_F(ControlTest, KillSendsTheSignalAndItsModeDecidesWhatFollows) {
  ASSERT_NO_FATAL_FAILURE(run("svc"));
  ASSERT_NO_FATAL_FAILURE(start());
  fake_.ignoreSigterm("ns1", "svc");
  ASSERT_TRUE(control().kill("ns1", "svc", SIGTERM));  // ignored: it runs on
  auto killed = waitFor(Kind::kKilled, "svc");
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->message, "signal 15");
  EXPECT_EQ(fake_.signals("ns1", "svc").back(), SIGTERM);
  ASSERT_TRUE(control().kill("ns1", "svc", SIGKILL));
  EXPECT_TRUE(waitFor(Kind::kRestarted, "svc")) << "Kill is not Stop: always restarts";

  for (int bad : {0, 65, -9}) {
    auto refused = control().kill("ns1", "svc", bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
    EXPECT_NE(refused.error().message.find("signal"), std::string::npos);
  }
  ASSERT_TRUE(control().stop("ns1", "svc"));
  auto stopped = control().kill("ns1", "svc", SIGTERM);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, Code::kFailedPrecondition);
}

TEST_F(ControlTest, CallsOnAContainerBeingDeletedOrUnknownSayWhy) {
  ASSERT_NO_FATAL_FAILURE(run("leaving"));
  fake_.ignoreSigterm("ns1", "leaving");
  ASSERT_TRUE(service_->signalDelete("ns1", "leaving"));
  EXPECT_EQ(control().stop("ns1", "leaving").error().code, Code::kFailedPrecondition);
  EXPECT_EQ(control().start("ns1", "leaving").error().code, Code::kFailedPrecondition);
  EXPECT_EQ(control().stop("ns1", "ghost").error().code, Code::kNotFound);
  EXPECT_EQ(waitNow("ghost").error().code, Code::kNotFound);
  EXPECT_EQ(control().start("ns1", "bad name").error().code, Code::kInvalidArgument);
  auto cancelled = control().wait("ns1", "leaving", [] { return true; });
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, Code::kCancelled);
}

}  // namespace
}  // namespace contd::container
