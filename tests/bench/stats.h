#pragma once
// Latency samples for the benchmarks: summaries (median, p90, min) and the little text
// helpers the reports share.
//
// Threading: plain functions on values; no shared state.

#include <cstddef>
#include <string>
#include <vector>

namespace contd::bench {

struct Summary {
  std::size_t count = 0;
  double median = 0;  // mean of the middle two for an even count
  double p90 = 0;     // nearest rank: the ceil(0.9 * count)-th smallest
  double p99 = 0;     // nearest rank: the ceil(0.99 * count)-th smallest
  double min = 0;
  double max = 0;
};

// Summary of `samples` (milliseconds). An empty set gives count 0 and zeros.
Summary summarize(std::vector<double> samples);

// The nearest-rank `fraction` percentile (0.9: the ceil(0.9 * count)-th smallest) of
// `sorted`, which must be in ascending order; 0 for an empty set.
double nearestRank(const std::vector<double>& sorted, double fraction);
// The same of unsorted samples.
double percentile(std::vector<double> samples, double fraction);

// `ms` with one decimal ("49.5"), or "-" when `present` is false.
std::string formatMs(double ms, bool present = true);

// `value` with `decimals` decimals ("12.3" for 1).
std::string formatFixed(double value, int decimals);

// numerator / denominator with two decimals ("0.83"), or "-" when the denominator is 0.
std::string formatRatio(double numerator, double denominator);

// `text` padded with spaces on the right (left-aligned) or left (right-aligned) to `width`.
std::string padRight(const std::string& text, std::size_t width);
std::string padLeft(const std::string& text, std::size_t width);

// A line of 100 dashes between the sections of a report.
void printRule();
// The report line on the machine: "<versions>; load average <before> before, <after> after".
void printMachine(const std::string& versions, const std::string& load_before,
                  const std::string& load_after);
// The report line on the build type (the CMAKE_BUILD_TYPE the benchmark was built with).
void printBuildType(const std::string& build_type);

}  // namespace contd::bench
