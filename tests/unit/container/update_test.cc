// Update (ContainerControl::update) against the in-memory containerd: the limits reach the
// running task and the stored spec, a container that does not run only has them stored,
// bad requests change nothing. Real cgroups: tests/integration/update_test.cc.

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "tests/unit/container/supervised_service.h"

namespace contd::container {
namespace {

using Kind = ModuleEvent::Kind;
using nlohmann::json;

constexpr std::uint64_t kMiB = 1ULL << 20;

class UpdateTest : public SupervisedServiceTest {
protected:
  ContainerControl& control() { return service_->control(); }

  json runtime(const std::string& id) const {
    return json::parse(fake_.record("ns1", id).spec_json);
  }
  json resources(const std::string& id) const { return runtime(id)["linux"]["resources"]; }
  // The resources of the last tasks.Update the task of `id` got; null when none.
  json lastLive(const std::string& id) const {
    const auto updates = fake_.taskUpdates("ns1", id);
    return updates.empty() ? json() : json::parse(updates.back());
  }
};

TEST_F(UpdateTest, ARunningContainerGetsTheLimitsAtOnceAndKeepsThemInItsStoredSpec) {
  ASSERT_NO_FATAL_FAILURE(run("web", [](ContainerSpec& s) {
    s.memory_bytes = 64 * kMiB;
    s.cpu = 2;
  }));
  const json devices = resources("web")["devices"];
  ASSERT_TRUE(control().update("ns1", "web", {.memory_bytes = 128 * kMiB, .pids_limit = 100}));

  // The running task got every limit: the changed ones, and the untouched cpu as stored.
  const json live = lastLive("web");
  EXPECT_EQ(live["memory"]["limit"], 128 * kMiB) << live.dump();
  EXPECT_EQ(live["pids"]["limit"], 100) << live.dump();
  EXPECT_EQ(live["cpu"]["quota"], 200000) << live.dump();
  EXPECT_FALSE(live.contains("devices")) << live.dump();
  // The record says the same, so the next task is made with them; the rest is as it was.
  const json stored = resources("web");
  EXPECT_EQ(stored["memory"]["limit"], 128 * kMiB);
  EXPECT_EQ(stored["pids"]["limit"], 100);
  EXPECT_EQ(stored["cpu"]["quota"], 200000);
  EXPECT_EQ(stored["devices"], devices);
  const auto info = inspect("web");
  EXPECT_EQ(info.spec.memory_bytes, 128 * kMiB);
  EXPECT_EQ(info.spec.pids_limit, 100);
  EXPECT_EQ(info.spec.cpu, 2u);
  EXPECT_EQ(info.status, ContainerStatus::kRunning);
  auto event = waitFor(Kind::kUpdated, "web");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->message, "memory_bytes=134217728 pids_limit=100");
}

TEST_F(UpdateTest, LiftingALimitIsSaidToRuncAndTakesItOutOfTheSpec) {
  ASSERT_NO_FATAL_FAILURE(run("web", [](ContainerSpec& s) {
    s.memory_bytes = 64 * kMiB;
    s.cpu = 1;
  }));
  ASSERT_TRUE(control().update("ns1", "web", {.cpu = 0, .memory_bytes = 0, .pids_limit = -1}));
  const json live = lastLive("web");
  // runc update leaves alone what it is not given: "no limit" must be -1.
  EXPECT_EQ(live["memory"]["limit"], -1) << live.dump();
  EXPECT_EQ(live["cpu"]["quota"], -1) << live.dump();
  EXPECT_EQ(live["pids"]["limit"], -1) << live.dump();
  const json stored = resources("web");
  EXPECT_FALSE(stored.contains("memory")) << stored.dump();
  EXPECT_FALSE(stored.contains("cpu")) << stored.dump();
  EXPECT_FALSE(stored.contains("pids")) << stored.dump();
  const auto spec = inspect("web").spec;
  EXPECT_EQ(spec.memory_bytes, 0u);
  EXPECT_EQ(spec.cpu, 0u);
  EXPECT_EQ(spec.pids_limit, -1);
}

// pids_limit 0 is the daemon's default of now; a limit the update leaves alone keeps what
// the container was given, whatever the default has become.
TEST_F(UpdateTest, PidsZeroTakesTodaysDefaultAndUntouchedLimitsKeepTheirs) {
  ASSERT_NO_FATAL_FAILURE(run("web"));
  EXPECT_EQ(resources("web")["pids"]["limit"], kDefaultPidsLimit);
  service_->setDefaults(kDefaultShutdownTimeout, 300);
  ASSERT_TRUE(control().update("ns1", "web", {.memory_bytes = 32 * kMiB}));
  EXPECT_EQ(lastLive("web")["pids"]["limit"], kDefaultPidsLimit);
  EXPECT_EQ(resources("web")["pids"]["limit"], kDefaultPidsLimit);
  ASSERT_TRUE(control().update("ns1", "web", {.pids_limit = 0}));
  EXPECT_EQ(lastLive("web")["pids"]["limit"], 300);
  EXPECT_EQ(resources("web")["pids"]["limit"], 300);
  EXPECT_EQ(inspect("web").spec.pids_limit, 0);
}

TEST_F(UpdateTest, AContainerThatDoesNotRunOnlyHasThemStoredForItsNextStart) {
  ASSERT_NO_FATAL_FAILURE(run("web"));
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_TRUE(control().stop("ns1", "web"));
  ASSERT_FALSE(fake_.hasTask("ns1", "web"));
  ASSERT_TRUE(control().update("ns1", "web", {.memory_bytes = 256 * kMiB}));
  EXPECT_EQ(resources("web")["memory"]["limit"], 256 * kMiB);
  EXPECT_EQ(inspect("web").status, ContainerStatus::kStopped) << "Update does not start it";
  ASSERT_TRUE(waitFor(Kind::kUpdated, "web"));
  ASSERT_TRUE(control().start("ns1", "web"));
  EXPECT_TRUE(fake_.taskUpdates("ns1", "web").empty()) << "the new task is made with them";
  EXPECT_EQ(resources("web")["memory"]["limit"], 256 * kMiB);
  EXPECT_EQ(inspect("web").spec.memory_bytes, 256 * kMiB);

  // An exited task not yet judged (no supervisor here) is not updated either.
  ASSERT_NO_FATAL_FAILURE(run("done"));
  fake_.exitTask("ns1", "done", 0);
  ASSERT_TRUE(control().update("ns1", "done", {.cpu = 3}));
  EXPECT_TRUE(fake_.taskUpdates("ns1", "done").empty());
  EXPECT_EQ(resources("done")["cpu"]["quota"], 300000);
}

TEST_F(UpdateTest, BadLimitsOrNoneAreRefusedNamingTheFieldAndChangeNothing) {
  ASSERT_NO_FATAL_FAILURE(run("web"));
  const std::string before = fake_.record("ns1", "web").spec_json;
  const std::vector<std::pair<LimitsUpdate, std::string>> bad = {
      {{}, "update: "},
      {{.memory_bytes = 1}, "memory_bytes: "},
      {{.memory_bytes = 4 * kMiB - 1}, "memory_bytes: "},
      {{.memory_bytes = 1ULL << 63}, "memory_bytes: "},
      {{.cpu = kMaxCpu + 1}, "cpu: "},
      {{.pids_limit = -2}, "pids_limit: "},
      {{.cpu = 1, .pids_limit = -5}, "pids_limit: "},
  };
  for (const auto& [limits, field] : bad) {
    auto refused = control().update("ns1", "web", limits);
    ASSERT_FALSE(refused) << field;
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument) << refused.error().message;
    EXPECT_EQ(refused.error().message.rfind(field, 0), 0u) << refused.error().message;
  }
  EXPECT_EQ(fake_.record("ns1", "web").spec_json, before);
  EXPECT_TRUE(fake_.taskUpdates("ns1", "web").empty());
  EXPECT_FALSE(waitFor(Kind::kUpdated, "web", 100ms));
}

TEST_F(UpdateTest, UnknownDeletedOrBadlyNamedContainersSayWhy) {
  EXPECT_EQ(control().update("ns1", "ghost", {.cpu = 1}).error().code, Code::kNotFound);
  EXPECT_EQ(control().update("ns1", "bad name", {.cpu = 1}).error().code,
            Code::kInvalidArgument);
  EXPECT_EQ(control().update("a\nb", "web", {.cpu = 1}).error().code, Code::kInvalidArgument);
  ASSERT_NO_FATAL_FAILURE(run("leaving"));
  fake_.ignoreSigterm("ns1", "leaving");
  ASSERT_TRUE(service_->signalDelete("ns1", "leaving"));
  const std::string before = fake_.record("ns1", "leaving").spec_json;
  auto refused = control().update("ns1", "leaving", {.cpu = 1});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition) << refused.error().message;
  EXPECT_EQ(fake_.record("ns1", "leaving").spec_json, before);
  EXPECT_TRUE(fake_.taskUpdates("ns1", "leaving").empty());
}

TEST_F(UpdateTest, AMemoryLimitBelowTheUsageIsAFailedPreconditionOnMemoryBytes) {
  ASSERT_NO_FATAL_FAILURE(run("big", [](ContainerSpec& s) { s.memory_bytes = 512 * kMiB; }));
  fake_.setMetrics("ns1", "big",
                   {.memory_usage_bytes = 100 * kMiB, .memory_max_usage_bytes = 120 * kMiB});
  const std::string before = fake_.record("ns1", "big").spec_json;
  auto refused = control().update("ns1", "big", {.memory_bytes = 64 * kMiB});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition) << refused.error().message;
  EXPECT_EQ(refused.error().message.rfind("memory_bytes: 67108864 ", 0), 0u)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("current usage: 104857600"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.back(), ')') << "runc's newline kept";
  EXPECT_EQ(fake_.record("ns1", "big").spec_json, before) << "stored although refused";
  EXPECT_FALSE(waitFor(Kind::kUpdated, "big", 100ms));
  EXPECT_TRUE(control().update("ns1", "big", {.memory_bytes = 128 * kMiB}));
}

TEST_F(UpdateTest, AFailedLiveUpdateStoresNothingAndAFailedStoreUndoesTheLiveOne) {
  ASSERT_NO_FATAL_FAILURE(run("web", [](ContainerSpec& s) { s.memory_bytes = 64 * kMiB; }));
  const std::string before = fake_.record("ns1", "web").spec_json;
  fake_.failNext("updateTask", Code::kUnavailable);
  auto live = control().update("ns1", "web", {.memory_bytes = 128 * kMiB});
  ASSERT_FALSE(live);
  EXPECT_EQ(live.error().code, Code::kUnavailable);
  EXPECT_EQ(fake_.record("ns1", "web").spec_json, before);

  fake_.failNext("setSpec", Code::kUnavailable);
  auto store = control().update("ns1", "web", {.memory_bytes = 128 * kMiB});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Code::kUnavailable);
  EXPECT_EQ(fake_.record("ns1", "web").spec_json, before);
  const auto updates = fake_.taskUpdates("ns1", "web");
  ASSERT_EQ(updates.size(), 2u) << "the new limits, then the old ones back";
  EXPECT_EQ(json::parse(updates[0])["memory"]["limit"], 128 * kMiB);
  EXPECT_EQ(json::parse(updates[1])["memory"]["limit"], 64 * kMiB);
  EXPECT_FALSE(waitFor(Kind::kUpdated, "web", 100ms));
}

}  // namespace
}  // namespace contd::container
