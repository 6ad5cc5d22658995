// The registry and its text exposition (format 0.0.4): names, escaping, histogram buckets.

#include "modules/metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace contd::metrics {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Registry, CounterHasHelpTypeAndLabelledSeries) {
  Registry registry;
  auto& calls = registry.counter("contd_api_calls_total", "API calls", {"method", "code"});
  calls.with({"Run", "OK"}).inc();
  calls.with({"Run", "OK"}).inc();
  calls.with({"Delete", "NOT_FOUND"}).inc(3);
  const std::string text = registry.exposition();
  EXPECT_EQ(text,
            "# HELP contd_api_calls_total API calls\n"
            "# TYPE contd_api_calls_total counter\n"
            "contd_api_calls_total{method=\"Delete\",code=\"NOT_FOUND\"} 3\n"
            "contd_api_calls_total{method=\"Run\",code=\"OK\"} 2\n");
}

TEST(Registry, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.gauge("g", "a \\ back\nslash", {"v"}).with({"q\"uo\\te\nnl"}).set(1.5);
  const std::string text = registry.exposition();
  EXPECT_TRUE(contains(text, "# HELP g a \\\\ back\\nslash\n")) << text;
  EXPECT_TRUE(contains(text, "g{v=\"q\\\"uo\\\\te\\nnl\"} 1.5\n")) << text;
}

TEST(Registry, UnlabelledSeriesHasNoBraces) {
  Registry registry;
  registry.gauge("contd_up", "up").with().set(1);
  EXPECT_TRUE(contains(registry.exposition(), "\ncontd_up 1\n"));
}

TEST(Registry, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  auto& family = registry.histogram("lat_seconds", "latency", {"op"}, {0.1, 1, 10});
  auto& h = family.with({"x"});
  h.observe(0.05);  // <= 0.1
  h.observe(0.1);   // <= 0.1 (upper bounds are inclusive)
  h.observe(0.5);   // <= 1
  h.observe(100);   // +Inf only
  const std::string text = registry.exposition();
  EXPECT_EQ(text,
            "# HELP lat_seconds latency\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{op=\"x\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{op=\"x\",le=\"1\"} 3\n"
            "lat_seconds_bucket{op=\"x\",le=\"10\"} 3\n"
            "lat_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{op=\"x\"} 100.65\n"
            "lat_seconds_count{op=\"x\"} 4\n");
}

TEST(Registry, FamiliesKeepRegistrationOrder) {
  Registry registry;
  registry.gauge("b_second", "b").with().set(0);
  registry.counter("a_first_total", "a").with().inc();
  const std::string text = registry.exposition();
  EXPECT_LT(text.find("b_second"), text.find("a_first_total"));
}

TEST(Registry, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  auto& family = registry.counter("n_total", "n", {"t"});
  auto& h = registry.histogram("h_seconds", "h", {}, {1}).with();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        family.with({t % 2 == 0 ? "even" : "odd"}).inc();
        h.observe(0.5);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(family.with({"even"}).value(), 20000);
  EXPECT_EQ(family.with({"odd"}).value(), 20000);
  EXPECT_EQ(h.snapshot().cumulative.back(), 40000u);
}

TEST(Registry, BadNamesAbort) {
  EXPECT_DEATH(Registry().counter("9bad", "x"), "metric name");
  EXPECT_DEATH(Registry().counter("ok_total", "x", {"le"}), "label name");
  EXPECT_DEATH(
      {
        Registry r;
        r.counter("twice_total", "x");
        r.gauge("twice_total", "x");
      },
      "registered twice");
}

TEST(FormatValue, IntegersSpecialsAndFractions) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(42), "42");
  EXPECT_EQ(formatValue(0.25), "0.25");
  EXPECT_EQ(formatValue(INFINITY), "+Inf");
  EXPECT_EQ(formatValue(-INFINITY), "-Inf");
  EXPECT_EQ(formatValue(NAN), "NaN");
  EXPECT_EQ(formatValue(1e20), "1e+20");
}

}  // namespace
}  // namespace contd::metrics
