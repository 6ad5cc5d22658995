#pragma once
// What every benchmark program needs besides its measurement: stopping cleanly on Ctrl-C,
// timing, number options, and a few /proc and file reads.
//
// Threading: installSignalHandlers() once from main before any thread; the rest any thread.

#include <charconv>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "modules/common/result.h"

namespace contd::bench {

using Clock = std::chrono::steady_clock;

// SIGINT/SIGTERM/SIGHUP set a flag (no SA_RESTART: a blocked poll or sleep returns early);
// the benchmark stops at its next step and cleans up.
void installSignalHandlers();
bool interrupted();
// kUnknown "interrupted" once a signal came, else ok.
Status checkInterrupted();

double msSince(Clock::time_point start);

// A whole number for option `flag`: "--rounds 'x': expected a whole number".
template <typename T>
Result<T> parseNumber(std::string_view flag, std::string_view text) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return invalidArgument(std::string(flag) + " '" + std::string(text) +
                           "': expected a whole number");
  }
  return value;
}

// The directory of this executable (for the default contd and contctl next to it).
std::filesystem::path ownDirectory();
// The whole file, "" when it cannot be read.
std::string readFile(const std::filesystem::path& path);
std::string firstLine(const std::string& text);
// The three load averages of /proc/loadavg: "0.52 0.58 0.59".
std::string loadAverage();

// Keeps the first error of a sequence of cleanup steps that all run.
void keepFirst(Status& first, Status next);

}  // namespace contd::bench
