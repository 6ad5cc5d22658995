// The Supervisor's stories against an in-memory containerd: what it does with an exit, an
// OOM, a container asked to stop, a container that keeps failing, and what reconcile finds
// after a Run that died half-way. Real timing is tested in tests/integration.

#include "modules/container/supervisor.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "tests/unit/container/supervised_service.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Kind = ModuleEvent::Kind;

class SupervisorTest : public SupervisedServiceTest {};

TEST_F(SupervisorTest, AnExitIsRecordedThenTheContainerIsRestarted) {
  ASSERT_NO_FATAL_FAILURE(run("web"));
  ASSERT_NO_FATAL_FAILURE(start());
  fake_.exitTask("ns1", "web", 3);
  auto exited = waitFor(Kind::kExited, "web");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->exit_code, 3);
  ASSERT_TRUE(waitFor(Kind::kBackingOff, "web"));
  auto restarted = waitFor(Kind::kRestarted, "web");
  ASSERT_TRUE(restarted);
  const auto info = inspect("web");
  EXPECT_EQ(info.status, ContainerStatus::kRunning);
  EXPECT_EQ(info.restart_count, 1u);
  ASSERT_EQ(info.exits.size(), 1u);
  EXPECT_EQ(info.exits[0].code, 3);
  EXPECT_FALSE(info.exits[0].oom_killed);
}

TEST_F(SupervisorTest, AnOomBeforeTheExitMarksTheExitOomKilled) {
  ASSERT_NO_FATAL_FAILURE(run("hog"));
  ASSERT_NO_FATAL_FAILURE(start());
  fake_.emitOom("ns1", "hog");
  ASSERT_TRUE(waitFor(Kind::kOom, "hog"));
  fake_.exitTask("ns1", "hog", 137);
  auto exited = waitFor(Kind::kExited, "hog");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->message, "oom-killed");
  ASSERT_TRUE(waitFor(Kind::kRestarted, "hog"));
  const auto info = inspect("hog");
  ASSERT_EQ(info.exits.size(), 1u);
  EXPECT_TRUE(info.exits[0].oom_killed);
}

TEST_F(SupervisorTest, AnExitAfterAHealthKillIsAFailureWhateverItsCode) {
  // What the health monitor does before it ends an unhealthy container: the mark.
  ASSERT_NO_FATAL_FAILURE(
      run("sick", [](ContainerSpec& s) { s.restart = RestartMode::kOnFailure; }));
  ASSERT_NO_FATAL_FAILURE(start());
  Lifecycle marked;
  marked.health_kill = true;
  ASSERT_TRUE(service_->store().saveLifecycle("ns1", "sick", marked));
  fake_.exitTask("ns1", "sick", 0);  // a clean exit on SIGTERM
  auto exited = waitFor(Kind::kExited, "sick");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->message, "unhealthy");
  ASSERT_TRUE(waitFor(Kind::kRestarted, "sick")) << "on-failure did not restart it";
  auto info = inspect("sick");
  ASSERT_EQ(info.exits.size(), 1u);
  EXPECT_EQ(info.exits[0].code, 0);
  EXPECT_TRUE(info.exits[0].unhealthy);
  // The mark went with that exit: the next clean exit is no failure.
  fake_.exitTask("ns1", "sick", 0);
  exited = waitFor(Kind::kExited, "sick");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->message, "");
  EXPECT_FALSE(waitFor(Kind::kBackingOff, "sick", 300ms));
  info = inspect("sick");
  ASSERT_EQ(info.exits.size(), 2u);
  EXPECT_FALSE(info.exits[1].unhealthy);
  EXPECT_EQ(info.status, ContainerStatus::kStopped);
}

TEST_F(SupervisorTest, AContainerAskedToStopIsNotRestarted) {
  ASSERT_NO_FATAL_FAILURE(run("leaving"));
  ASSERT_NO_FATAL_FAILURE(start());
  fake_.ignoreSigterm("ns1", "leaving");
  ASSERT_TRUE(service_->signalDelete("ns1", "leaving"));
  fake_.exitTask("ns1", "leaving", 0);
  ASSERT_TRUE(waitFor(Kind::kExited, "leaving"));
  EXPECT_FALSE(waitFor(Kind::kBackingOff, "leaving", 300ms));
  const auto info = inspect("leaving");
  EXPECT_TRUE(info.stopping);
  EXPECT_EQ(info.restart_count, 0u);
}

// The "stopping" label is written while the container stops (off Delete's critical path),
// yet a Delete that fails after the stop still leaves it: the exit is not restarted.
TEST_F(SupervisorTest, ADeleteThatFailsHalfWayLeavesTheContainerStoppingNotRestarted) {
  ASSERT_NO_FATAL_FAILURE(run("half"));
  ASSERT_NO_FATAL_FAILURE(start());
  fake_.failNext("deleteTask", Code::kUnavailable);
  auto removed = service_->remove("ns1", "half");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, Code::kUnavailable);
  EXPECT_FALSE(waitFor(Kind::kBackingOff, "half", 300ms));
  const auto info = inspect("half");
  EXPECT_TRUE(info.stopping);
  EXPECT_EQ(info.restart_count, 0u);
  ASSERT_TRUE(service_->remove("ns1", "half"));  // the retry removes it
}

TEST_F(SupervisorTest, GivesUpAfterTooManyFailuresAndKeepsTheContainerFailed) {
  ASSERT_NO_FATAL_FAILURE(run("flaky"));
  ASSERT_NO_FATAL_FAILURE(start(fastPolicy(/*max_failures=*/2)));
  // max_failures exits within the window are restarted; one more is one too many.
  for (int i = 0; i < 2; ++i) {
    fake_.exitTask("ns1", "flaky", 1);
    ASSERT_TRUE(waitFor(Kind::kRestarted, "flaky")) << "restart " << i;
  }
  fake_.exitTask("ns1", "flaky", 1);
  auto gave_up = waitFor(Kind::kGaveUp, "flaky");
  ASSERT_TRUE(gave_up);
  EXPECT_EQ(inspect("flaky").status, ContainerStatus::kFailed);
  // A new supervisor (contd restarted) leaves a failed container alone.
  supervisor_.reset();
  ASSERT_NO_FATAL_FAILURE(start(fastPolicy(2)));
  EXPECT_FALSE(waitFor(Kind::kRestarted, "flaky", 300ms));
  EXPECT_EQ(inspect("flaky").status, ContainerStatus::kFailed);
}

TEST_F(SupervisorTest, ReconcileDiscardsARunThatDiedBeforeItsTask) {
  // What a Run killed right after its record leaves: a managed record, no task, no exit.
  containerd::ContainerRecord record;
  record.id = "half";
  record.labels[kManagedLabel] = "true";
  record.spec_json = "{}";
  ASSERT_TRUE(fake_.ensureNamespace("ns1"));
  ASSERT_TRUE(fake_.createContainer("ns1", record));
  ASSERT_NO_FATAL_FAILURE(run("whole"));
  ASSERT_NO_FATAL_FAILURE(start());
  EXPECT_FALSE(fake_.hasContainer("ns1", "half"));
  EXPECT_TRUE(fake_.hasContainer("ns1", "whole"));
  EXPECT_EQ(inspect("whole").status, ContainerStatus::kRunning);
}

TEST_F(SupervisorTest, ReconcileDeletesTheStrandedTaskOfAHalfCreatedContainer) {
  // containerd killed during tasks.Create: a record, and a task Get calls NOT_FOUND whose
  // shim containerd still holds (issue: the name stayed taken until containerd restarted).
  containerd::ContainerRecord record;
  record.id = "k1";
  record.labels[kManagedLabel] = "true";
  record.spec_json = "{}";
  ASSERT_TRUE(fake_.ensureNamespace("ns1"));
  ASSERT_TRUE(fake_.createContainer("ns1", record));
  fake_.strandTask("ns1", "k1");
  ASSERT_NO_FATAL_FAILURE(start());
  EXPECT_FALSE(fake_.hasContainer("ns1", "k1"));
  EXPECT_FALSE(fake_.hasTask("ns1", "k1"));
  ASSERT_NO_FATAL_FAILURE(run("k1"));
  EXPECT_EQ(inspect("k1").status, ContainerStatus::kRunning);
}

TEST_F(SupervisorTest, ReconcileHandlesAnExitThatHappenedWhileNobodyWatched) {
  ASSERT_NO_FATAL_FAILURE(run("quiet"));
  fake_.exitTask("ns1", "quiet", 2);  // before any supervisor exists
  ASSERT_NO_FATAL_FAILURE(start());
  auto exited = waitFor(Kind::kExited, "quiet");
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->exit_code, 2);
  ASSERT_TRUE(waitFor(Kind::kRestarted, "quiet"));
  EXPECT_EQ(inspect("quiet").restart_count, 1u);
}

}  // namespace
}  // namespace contd::container
