// The in-memory containerd's labels, events, exec and metrics (tests/fakes), so that tests
// built on it can rely on what its header promises.

#include "tests/fakes/fake_containerd.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <mutex>
#include <vector>

namespace contd::testing {
namespace {

using containerd::Event;
using namespace std::chrono_literals;

// Collects what a subscription delivers.
struct Recorder {
  std::mutex mu;
  std::vector<Event> events;
  std::vector<Error> broken;

  containerd::EventCallback onEvent() {
    return [this](const Event& e) {
      std::lock_guard lock(mu);
      events.push_back(e);
    };
  }
  containerd::BrokenCallback onBroken() {
    return [this](const Error& e) {
      std::lock_guard lock(mu);
      broken.push_back(e);
    };
  }
};

class FakeContainerdTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.ensureNamespace("ns1"));
    containerd::ContainerRecord record;
    record.id = "web";
    record.labels = {{"keep", "1"}, {"change", "old"}, {"drop", "x"}};
    ASSERT_TRUE(fake_.createContainer("ns1", record));
    ASSERT_TRUE(fake_.createTask("ns1", "web", {}, 1s));
    ASSERT_TRUE(fake_.startTask("ns1", "web"));
  }

  FakeContainerd fake_;
};

TEST_F(FakeContainerdTest, SetLabelsChangesOnlyTheGivenKeys) {
  ASSERT_TRUE(fake_.setLabels("ns1", "web", {{"change", "new"}, {"drop", ""}, {"add", "a"}}));
  EXPECT_EQ(fake_.record("ns1", "web").labels,
            (containerd::Labels{{"add", "a"}, {"change", "new"}, {"keep", "1"}}));
  auto missing = fake_.setLabels("ns1", "nope", {{"a", "b"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST_F(FakeContainerdTest, KillAndExitTaskEmitExitsOnTheirTopicOnly) {
  Recorder exits;
  Recorder all;
  auto exit_sub = fake_.subscribe({"/tasks/exit"}, exits.onEvent(), exits.onBroken());
  ASSERT_TRUE(exit_sub);
  auto all_sub = fake_.subscribe({}, all.onEvent(), all.onBroken());
  ASSERT_TRUE(all_sub);

  fake_.emitOom("ns1", "web");
  ASSERT_TRUE(fake_.killTask("ns1", "web", SIGKILL, false));
  fake_.flushEvents();
  ASSERT_EQ(exits.events.size(), 1u);
  EXPECT_EQ(exits.events[0].kind, Event::Kind::kTaskExit);
  EXPECT_EQ(exits.events[0].ns, "ns1");
  EXPECT_EQ(exits.events[0].container_id, "web");
  EXPECT_EQ(exits.events[0].process_id, "web");
  EXPECT_EQ(exits.events[0].exit_status, 137u);
  EXPECT_GT(exits.events[0].pid, 0u);
  ASSERT_EQ(all.events.size(), 2u);
  EXPECT_EQ(all.events[0].kind, Event::Kind::kTaskOom);
  EXPECT_EQ(all.events[0].topic, "/tasks/oom");

  // exitTask on a stopped task changes the status but sends no second exit.
  fake_.exitTask("ns1", "web", 3);
  fake_.flushEvents();
  EXPECT_EQ(exits.events.size(), 1u);
}

TEST_F(FakeContainerdTest, IgnoredSigtermEmitsNothing) {
  fake_.ignoreSigterm("ns1", "web");
  Recorder r;
  auto sub = fake_.subscribe({"/tasks/exit"}, r.onEvent(), r.onBroken());
  ASSERT_TRUE(sub);
  ASSERT_TRUE(fake_.killTask("ns1", "web", SIGTERM, false));
  fake_.flushEvents();
  EXPECT_TRUE(r.events.empty());
  fake_.exitTask("ns1", "web", 0);
  fake_.flushEvents();
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].exit_status, 0u);
}

TEST_F(FakeContainerdTest, BreakCallsOnBrokenOnceAndEndsTheSubscription) {
  Recorder r;
  auto sub = fake_.subscribe({"/tasks/exit"}, r.onEvent(), r.onBroken());
  ASSERT_TRUE(sub);
  EXPECT_EQ(fake_.subscriptionCount(), 1u);
  fake_.emitExit("ns1", "web", 1);
  fake_.breakSubscriptions(unavailable("containerd went away"));
  fake_.breakSubscriptions(unavailable("again"));
  fake_.emitExit("ns1", "web", 2);
  fake_.flushEvents();
  ASSERT_EQ(r.events.size(), 1u);  // the one queued before the break
  ASSERT_EQ(r.broken.size(), 1u);
  EXPECT_EQ(r.broken[0].code, Code::kUnavailable);
  EXPECT_EQ(fake_.subscriptionCount(), 0u);

  sub = Error{};  // destroy, then subscribe again
  auto again = fake_.subscribe({"/tasks/exit"}, r.onEvent(), r.onBroken());
  ASSERT_TRUE(again);
  fake_.emitExit("ns1", "web", 4);
  fake_.flushEvents();
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1].exit_status, 4u);
}

TEST_F(FakeContainerdTest, CallbacksMayCallBackIntoTheFake) {
  std::mutex mu;
  std::vector<containerd::TaskStatus> seen;
  auto sub = fake_.subscribe(
      {"/tasks/exit"},
      [&](const Event& e) {
        auto task = fake_.getTask(e.ns, e.container_id);
        std::lock_guard lock(mu);
        seen.push_back(task ? task->status : containerd::TaskStatus::kUnknown);
      },
      [](const Error&) {});
  ASSERT_TRUE(sub);
  ASSERT_TRUE(fake_.killTask("ns1", "web", SIGKILL, false));
  fake_.flushEvents();
  EXPECT_EQ(seen, (std::vector<containerd::TaskStatus>{containerd::TaskStatus::kStopped}));
}

TEST_F(FakeContainerdTest, InjectedSubscribeFailure) {
  fake_.failNext("subscribe", Code::kUnavailable);
  Recorder r;
  auto sub = fake_.subscribe({}, r.onEvent(), r.onBroken());
  ASSERT_FALSE(sub);
  EXPECT_EQ(sub.error().code, Code::kUnavailable);
}

TEST_F(FakeContainerdTest, ExecRunsUntilKilledOrUsesThePresetResult) {
  Recorder r;
  auto sub = fake_.subscribe({"/tasks/exit"}, r.onEvent(), r.onBroken());
  ASSERT_TRUE(sub);

  containerd::ExecRequest sleeper{"sleeper", R"({"args":["/bin/sleep","100"]})", "", ""};
  ASSERT_TRUE(fake_.execProcess("ns1", "web", sleeper));
  auto duplicate = fake_.execProcess("ns1", "web", sleeper);
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Code::kAlreadyExists);
  ASSERT_TRUE(fake_.startProcess("ns1", "web", "sleeper"));
  auto waited = fake_.waitProcess("ns1", "web", "sleeper", 300ms);
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().code, Code::kDeadlineExceeded);
  auto running_delete = fake_.deleteProcess("ns1", "web", "sleeper");
  ASSERT_FALSE(running_delete);
  ASSERT_TRUE(fake_.killProcess("ns1", "web", "sleeper", SIGKILL));
  EXPECT_EQ(fake_.processSignals("ns1", "web", "sleeper"), (std::vector<int>{SIGKILL}));
  auto killed = fake_.waitProcess("ns1", "web", "sleeper", 300ms);
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_EQ(killed->code, 137u);

  fake_.setExecResult("ns1", "web", {.exit_code = 5, .output = "hi\n"});
  containerd::ExecRequest quick{"quick", R"({"args":["/bin/sh","-c","exit 5"]})", "", ""};
  ASSERT_TRUE(fake_.execProcess("ns1", "web", quick));
  ASSERT_EQ(fake_.execs("ns1", "web").size(), 2u);
  ASSERT_TRUE(fake_.startProcess("ns1", "web", "quick"));
  auto quick_exit = fake_.waitProcess("ns1", "web", "quick", 300ms);
  ASSERT_TRUE(quick_exit);
  EXPECT_EQ(quick_exit->code, 5u);
  ASSERT_TRUE(fake_.deleteProcess("ns1", "web", "sleeper"));
  ASSERT_TRUE(fake_.deleteProcess("ns1", "web", "quick"));
  EXPECT_TRUE(fake_.execs("ns1", "web").empty());
  auto gone = fake_.waitProcess("ns1", "web", "quick", 300ms);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kNotFound);

  fake_.flushEvents();
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].process_id, "sleeper");
  EXPECT_EQ(r.events[0].container_id, "web");
  EXPECT_EQ(r.events[1].process_id, "quick");
  EXPECT_EQ(r.events[1].exit_status, 5u);
}

TEST_F(FakeContainerdTest, TaskExitEndsItsExecsFirst) {
  Recorder r;
  auto sub = fake_.subscribe({"/tasks/exit"}, r.onEvent(), r.onBroken());
  ASSERT_TRUE(sub);
  ASSERT_TRUE(fake_.execProcess("ns1", "web", {"sh", "{}", "", ""}));
  ASSERT_TRUE(fake_.startProcess("ns1", "web", "sh"));
  fake_.exitTask("ns1", "web", 2);
  fake_.flushEvents();
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].process_id, "sh");
  EXPECT_EQ(r.events[0].exit_status, 137u);
  EXPECT_EQ(r.events[1].process_id, "web");
  EXPECT_EQ(r.events[1].exit_status, 2u);
}

TEST_F(FakeContainerdTest, MetricsAreSettablePerContainer) {
  auto none = fake_.metrics("ns1", "web");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->memory_usage_bytes, 0u);
  fake_.setMetrics("ns1", "web", {.cpu_usage_ns = 5, .memory_usage_bytes = 1024});
  auto set = fake_.metrics("ns1", "web");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->cpu_usage_ns, 5u);
  EXPECT_EQ(set->memory_usage_bytes, 1024u);
  auto missing = fake_.metrics("ns1", "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  fake_.failNext("metrics", Code::kUnavailable);
  EXPECT_FALSE(fake_.metrics("ns1", "web"));
}

}  // namespace
}  // namespace contd::testing
