#include "modules/container/restart_policy.h"

#include <gtest/gtest.h>

#include "modules/container/lifecycle_labels.h"

namespace contd::container {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t kSecond = 1'000'000'000;

RestartPolicy policy() {
  RestartPolicy p;
  p.initial_delay = 100ms;
  p.max_delay = 1s;
  p.max_failures = 5;
  p.window = 60s;
  return p;
}

TEST(RestartPolicy, DelayDoublesPerFailureUpToTheCap) {
  EXPECT_EQ(nextRestartDelay(policy(), 1), 100ms);
  EXPECT_EQ(nextRestartDelay(policy(), 2), 200ms);
  EXPECT_EQ(nextRestartDelay(policy(), 3), 400ms);
  EXPECT_EQ(nextRestartDelay(policy(), 4), 800ms);
  EXPECT_EQ(nextRestartDelay(policy(), 5), 1000ms);
}

TEST(RestartPolicy, GivesUpAfterMaxFailuresInTheWindow) {
  EXPECT_TRUE(nextRestartDelay(policy(), 5).has_value());
  EXPECT_FALSE(nextRestartDelay(policy(), 6).has_value());
}

TEST(RestartPolicy, OnlyExitsInsideTheWindowCount) {
  const std::int64_t now = 1000 * kSecond;
  std::vector<Termination> exits = {{now - 120 * kSecond, 1, false},
                                    {now - 61 * kSecond, 1, false},
                                    {now - 60 * kSecond, 1, false},
                                    {now - 1 * kSecond, 1, false}};
  EXPECT_EQ(failuresInWindow(policy(), exits, now), 2u);
  EXPECT_EQ(failuresInWindow(policy(), {}, now), 0u);
}

TEST(LifecycleLabels, RoundTripThroughLabels) {
  Lifecycle lifecycle;
  lifecycle.stopping = true;
  lifecycle.state = PolicyState::kBackingOff;
  lifecycle.next_retry = 42 * kSecond;
  lifecycle.restarts = 3;
  lifecycle.exits = {{1 * kSecond, 3, false}, {2 * kSecond, 137, true}};
  EXPECT_EQ(lifecycleFrom(lifecycleLabels(lifecycle)), lifecycle);
}

TEST(LifecycleLabels, EmptyLifecycleClearsEveryLabel) {
  for (const auto& [key, value] : lifecycleLabels(Lifecycle{})) {
    EXPECT_EQ(value, "") << key;  // setLabels removes labels given as ""
  }
  EXPECT_EQ(lifecycleFrom({}), Lifecycle{});
}

TEST(LifecycleLabels, MalformedLabelsReadAsAbsent) {
  containerd::Labels labels = {{kRestartsLabel, "many"},
                               {kExitsLabel, "{not json"},
                               {kStateLabel, "sleeping"},
                               {kNextRetryLabel, "12x"}};
  EXPECT_EQ(lifecycleFrom(labels), Lifecycle{});
}

TEST(LifecycleLabels, KeepsOnlyTheLastExits) {
  Lifecycle lifecycle;
  for (std::size_t i = 0; i < kMaxExits + 3; ++i) {
    addExit(lifecycle, {static_cast<std::int64_t>(i), 1, false});
  }
  ASSERT_EQ(lifecycle.exits.size(), kMaxExits);
  EXPECT_EQ(lifecycle.exits.front().time, 3);
  EXPECT_EQ(lifecycle.exits.back().time, static_cast<std::int64_t>(kMaxExits + 2));
  // Still fits in one containerd label (4 KiB).
  lifecycle.exits.assign(kMaxExits, {1'900'000'000'000'000'000, -1, true});
  EXPECT_LT(lifecycleLabels(lifecycle).at(kExitsLabel).size(), 4096u - 32u);
}

}  // namespace
}  // namespace contd::container
