// The rules of a container's health (health_state.h), result by result.

#include "modules/container/health_state.h"

#include <string>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

HealthResult pass() { return {.start = 1, .end = 2, .exit_code = 0, .output = "ok"}; }
HealthResult fail(int code = 1) { return {.start = 1, .end = 2, .exit_code = code, .output = "no"}; }

TEST(HealthState, APassMakesAStartingContainerHealthyOnce) {
  HealthState state;
  EXPECT_EQ(state.status, HealthStatus::kStarting);
  EXPECT_TRUE(recordHealthResult(state, pass(), 3, false));
  EXPECT_EQ(state.status, HealthStatus::kHealthy);
  EXPECT_FALSE(recordHealthResult(state, pass(), 3, false)) << "no event without a change";
  EXPECT_EQ(state.failing_streak, 0u);
  EXPECT_EQ(state.log.size(), 2u);
}

TEST(HealthState, RetriesFailuresInARowMakeItUnhealthyAndAPassHealsIt) {
  HealthState state;
  ASSERT_TRUE(recordHealthResult(state, pass(), 3, false));
  EXPECT_FALSE(recordHealthResult(state, fail(), 3, false));
  EXPECT_FALSE(recordHealthResult(state, fail(2), 3, false));
  EXPECT_EQ(state.status, HealthStatus::kHealthy) << "two failures of three";
  EXPECT_EQ(state.failing_streak, 2u);
  EXPECT_TRUE(recordHealthResult(state, fail(-1), 3, false));
  EXPECT_EQ(state.status, HealthStatus::kUnhealthy);
  EXPECT_EQ(state.failing_streak, 3u);
  EXPECT_FALSE(recordHealthResult(state, fail(), 3, false)) << "unhealthy stays, no new event";
  EXPECT_EQ(state.failing_streak, 4u);
  EXPECT_TRUE(recordHealthResult(state, pass(), 3, false));
  EXPECT_EQ(state.status, HealthStatus::kHealthy);
  EXPECT_EQ(state.failing_streak, 0u);
}

TEST(HealthState, APassInBetweenStartsTheStreakAgain) {
  HealthState state;
  recordHealthResult(state, fail(), 2, false);
  recordHealthResult(state, pass(), 2, false);
  EXPECT_FALSE(recordHealthResult(state, fail(), 2, false));
  EXPECT_EQ(state.status, HealthStatus::kHealthy);
  EXPECT_EQ(state.failing_streak, 1u);
}

TEST(HealthState, AStartingContainerBecomesUnhealthyAfterRetriesFailures) {
  HealthState state;
  EXPECT_FALSE(recordHealthResult(state, fail(), 2, false));
  EXPECT_EQ(state.status, HealthStatus::kStarting);
  EXPECT_TRUE(recordHealthResult(state, fail(), 2, false));
  EXPECT_EQ(state.status, HealthStatus::kUnhealthy);
}

TEST(HealthState, FailuresInTheStartPeriodDoNotCountUntilACheckPassed) {
  HealthState state;
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(recordHealthResult(state, fail(), 1, true));
  }
  EXPECT_EQ(state.status, HealthStatus::kStarting);
  EXPECT_EQ(state.failing_streak, 0u);
  EXPECT_EQ(state.log.size(), kHealthLogSize) << "they are logged all the same";
  // A pass ends the start period: failures count from then on, even within it.
  EXPECT_TRUE(recordHealthResult(state, pass(), 1, true));
  EXPECT_TRUE(recordHealthResult(state, fail(), 1, true));
  EXPECT_EQ(state.status, HealthStatus::kUnhealthy);
}

TEST(HealthState, TheLogKeepsTheLastResultsOldestFirst) {
  HealthState state;
  for (int i = 0; i < 7; ++i) {
    recordHealthResult(state, {.start = i, .end = i, .exit_code = i, .output = ""}, 100, false);
  }
  ASSERT_EQ(state.log.size(), kHealthLogSize);
  EXPECT_EQ(state.log.front().exit_code, 2);
  EXPECT_EQ(state.log.back().exit_code, 6);
}

TEST(HealthState, ARestartMakesItStartingAndKeepsTheLog) {
  HealthState state;
  recordHealthResult(state, fail(), 1, false);
  ASSERT_EQ(state.status, HealthStatus::kUnhealthy);
  restartHealth(state);
  EXPECT_EQ(state.status, HealthStatus::kStarting);
  EXPECT_EQ(state.failing_streak, 0u);
  EXPECT_EQ(state.log.size(), 1u);
}

TEST(HealthState, OutputIsCutToTheLastBytesAndMadeUtf8) {
  EXPECT_EQ(healthOutput("plain\n"), "plain\n");
  EXPECT_EQ(healthOutput("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(healthOutput("a\xFF" "b\xC3"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(healthOutput("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD")
      << "a surrogate is not UTF-8";
  const std::string long_output = std::string(5000, 'x') + "\xC3\xA9" + "end";
  const std::string cut = healthOutput(long_output);
  EXPECT_LE(cut.size(), kHealthOutputLimit);
  EXPECT_TRUE(cut.ends_with("\xC3\xA9" "end"));
  // A cut inside a character starts after it.
  const std::string split = "\xC3\xA9" + std::string(kHealthOutputLimit - 1, 'y');
  EXPECT_EQ(healthOutput(split), std::string(kHealthOutputLimit - 1, 'y'));
  HealthState state;
  recordHealthResult(state, {.exit_code = 0, .output = long_output}, 3, false);
  EXPECT_EQ(state.log.back().output, cut);
}

}  // namespace
}  // namespace contd::container
