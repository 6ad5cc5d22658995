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
  double min = 0;
  double max = 0;
};

// Summary of `samples` (milliseconds). An empty set gives count 0 and zeros.
Summary summarize(std::vector<double> samples);

// `ms` with one decimal ("49.5"), or "-" when `present` is false.
std::string formatMs(double ms, bool present = true);

// numerator / denominator with two decimals ("0.83"), or "-" when the denominator is 0.
std::string formatRatio(double numerator, double denominator);

// `text` padded with spaces on the right (left-aligned) or left (right-aligned) to `width`.
std::string padRight(const std::string& text, std::size_t width);
std::string padLeft(const std::string& text, std::size_t width);

}  // namespace contd::bench
