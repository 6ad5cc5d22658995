#include "tests/bench/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace contd::bench {

Summary summarize(std::vector<double> samples) {
  Summary summary;
  summary.count = samples.size();
  if (samples.empty()) {
    return summary;
  }
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  summary.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  const auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n)));
  summary.p90 = samples[std::max<std::size_t>(rank, 1) - 1];
  summary.min = samples.front();
  summary.max = samples.back();
  return summary;
}

std::string formatMs(double ms, bool present) {
  if (!present) {
    return "-";
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", ms);
  return buf;
}

std::string formatRatio(double numerator, double denominator) {
  if (denominator <= 0) {
    return "-";
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", numerator / denominator);
  return buf;
}

std::string padRight(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

std::string padLeft(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

}  // namespace contd::bench
