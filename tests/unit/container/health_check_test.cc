// A container's health check as Run takes it: validation (each refusal names its field,
// the defaults filled in) and the stored spec's JSON.

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/container/container_spec.h"
#include "modules/container/validation.h"
#include "tests/fakes/fake_host.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class HealthCheckValidation : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "contd-health-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    testing::makeFakeHost(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  ContainerSpec withHealth(HealthCheckSpec health) const {
    ContainerSpec spec = testing::fakeHostSpec(root_, "web");
    spec.health = std::move(health);
    return spec;
  }

  Result<ValidSpec> validate(const ContainerSpec& spec) const {
    return validateSpec("ns1", spec, testing::fakeHostValidationEnv(root_));
  }

  fs::path root_;
};

TEST_F(HealthCheckValidation, DefaultsAreFilledInAndGivenValuesKept) {
  auto valid = validate(withHealth({.argv = {"/bin/true"}}));
  ASSERT_TRUE(valid) << valid.error().message;
  ASSERT_TRUE(valid->spec.health);
  EXPECT_EQ(valid->spec.health->interval, kDefaultHealthInterval);
  EXPECT_EQ(valid->spec.health->timeout, kDefaultHealthTimeout);
  EXPECT_EQ(valid->spec.health->retries, kDefaultHealthRetries);
  EXPECT_EQ(valid->spec.health->start_period, milliseconds(0));

  const HealthCheckSpec own{.argv = {"echo", "ok"},  // found in PATH
                            .interval = kMinHealthInterval,
                            .timeout = kMinHealthTimeout,
                            .retries = 1,
                            .start_period = kMaxHealthDuration};
  valid = validate(withHealth(own));
  ASSERT_TRUE(valid) << valid.error().message;
  EXPECT_EQ(*valid->spec.health, own);

  valid = validate(testing::fakeHostSpec(root_, "plain"));
  ASSERT_TRUE(valid) << valid.error().message;
  EXPECT_FALSE(valid->spec.health) << "no health check unless asked for";
}

TEST_F(HealthCheckValidation, EachBadValueIsRefusedNamingItsField) {
  struct Row {
    HealthCheckSpec health;
    std::string field;
  };
  const std::string too_long(kMaxArgStringBytes + 1, 'a');
  const Row rows[] = {
      {{.argv = {}}, "health.argv"},
      {{.argv = {""}}, "health.argv"},
      {{.argv = {"/bin/true", std::string("a\0b", 3)}}, "health.argv[1]"},
      {{.argv = {"/bin/true", too_long}}, "health.argv[1]"},
      {{.argv = {"/bin/missing"}}, "health.argv[0]"},
      {{.argv = {"missing"}}, "health.argv[0]"},
      {{.argv = {"/bin/true"}, .interval = milliseconds(999)}, "health.interval_ms"},
      {{.argv = {"/bin/true"}, .interval = kMaxHealthDuration + milliseconds(1)},
       "health.interval_ms"},
      {{.argv = {"/bin/true"}, .interval = milliseconds(-1)}, "health.interval_ms"},
      {{.argv = {"/bin/true"}, .timeout = milliseconds(99)}, "health.timeout_ms"},
      {{.argv = {"/bin/true"}, .timeout = kMaxHealthDuration + milliseconds(1)},
       "health.timeout_ms"},
      {{.argv = {"/bin/true"}, .start_period = kMaxHealthDuration + milliseconds(1)},
       "health.start_period_ms"},
      {{.argv = {"/bin/true"}, .start_period = milliseconds(-1)}, "health.start_period_ms"},
  };
  for (const auto& row : rows) {
    auto refused = validate(withHealth(row.health));
    ASSERT_FALSE(refused) << "accepted a bad " << row.field;
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
    EXPECT_EQ(refused.error().message.rfind(row.field + ": ", 0), 0u)
        << "does not name " << row.field << ": " << refused.error().message;
  }
}

TEST_F(HealthCheckValidation, FromAnImageTheProgramIsNotLookedFor) {
  ContainerSpec spec = withHealth({.argv = {"/usr/bin/curl", "-f", "localhost"}});
  spec.rootfs.clear();
  spec.image = "app:1";
  auto valid = validate(spec);
  EXPECT_TRUE(valid) << valid.error().message;
}

TEST(HealthCheckJson, RoundTripsAndAnOldRecordHasNone) {
  ContainerSpec spec;
  spec.name = "web";
  spec.health = HealthCheckSpec{.argv = {"/bin/sh", "-c", "test -f /ok"},
                                .interval = milliseconds(1000),
                                .timeout = milliseconds(500),
                                .retries = 2,
                                .start_period = milliseconds(3000)};
  const nlohmann::json stored = toJson(spec);
  EXPECT_EQ(stored.at("health"),
            nlohmann::json::parse(R"({"argv": ["/bin/sh", "-c", "test -f /ok"],
                "interval_ms": 1000, "timeout_ms": 500, "retries": 2,
                "start_period_ms": 3000})"));
  auto back = specFromJson(nlohmann::json::parse(stored.dump()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, spec);

  spec.health.reset();
  EXPECT_FALSE(toJson(spec).contains("health")) << "a spec without one is stored as before";
  back = specFromJson(toJson(spec));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_FALSE(back->health);

  nlohmann::json bad = stored;
  bad["health"]["retries"] = "3";
  auto refused = specFromJson(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "/health/retries: expected unsigned 32-bit integer");
  bad["health"] = "no";
  EXPECT_FALSE(specFromJson(bad));
}

}  // namespace
}  // namespace contd::container
