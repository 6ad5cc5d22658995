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
  summary.p90 = nearestRank(samples, 0.9);
  summary.p99 = nearestRank(samples, 0.99);
  summary.min = samples.front();
  summary.max = samples.back();
  return summary;
}

double nearestRank(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) {
    return 0;
  }
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::min(std::max<std::size_t>(rank, 1), sorted.size()) - 1];
}

double percentile(std::vector<double> samples, double fraction) {
  std::sort(samples.begin(), samples.end());
  return nearestRank(samples, fraction);
}

std::string formatFixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

std::string formatMs(double ms, bool present) {
  if (!present) {
    return "-";
  }
  return formatFixed(ms, 1);
}

std::string formatRatio(double numerator, double denominator) {
  if (denominator <= 0) {
    return "-";
  }
  return formatFixed(numerator / denominator, 2);
}

std::string padRight(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

std::string padLeft(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}


void printRule() { std::printf("%s\n", std::string(100, '-').c_str()); }

void printMachine(const std::string& versions, const std::string& load_before,
                  const std::string& load_after) {
  std::printf("%s; load average %s before, %s after\n", versions.c_str(), load_before.c_str(),
              load_after.c_str());
}

void printBuildType(const std::string& build_type) {
  std::printf("build type of this benchmark (and of contd/contctl when they come from the same "
              "build): %s\n",
              build_type.empty() ? "(none)" : build_type.c_str());
}

}  // namespace contd::bench
