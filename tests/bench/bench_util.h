#pragma once
// What every benchmark program needs besides its measurement: stopping cleanly on Ctrl-C,
// timing, number options, a few /proc and file reads, and checks of the commands it runs.
//
// Threading: installSignalHandlers() once from main before any thread; the rest any thread.

#include <charconv>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "modules/common/result.h"
#include "tests/integration/support/run_command.h"

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
// `path`, or when it is empty the program `name` next to this executable.
std::string orNextToSelf(const std::string& path, std::string_view name);
// `missing` (what the prerequisite checks found lacking, "" when nothing) with
// "needs <program> (executable)" added for each of `programs` not found on PATH.
std::string addMissingPrograms(std::string missing, const std::vector<std::string>& programs);
// The whole file, "" when it cannot be read.
std::string readFile(const std::filesystem::path& path);
std::string firstLine(const std::string& text);
// The three load averages of /proc/loadavg: "0.52 0.58 0.59".
std::string loadAverage();

// `text` without trailing newlines and spaces.
std::string trimmed(std::string text);
// The last `max` bytes of `text`, trimmed, for error messages.
std::string tail(const std::string& text, std::size_t max = 1500);

// An error for a command that did not run, or ran and did not exit with `expected_exit`:
// "'<argv>' exited with 1 (expected 0): <its stderr>".
Status commandSucceeded(const std::vector<std::string>& argv,
                        const Result<::contd::testing::CommandResult>& result,
                        int expected_exit = 0);

// Copies `from`, when it exists, to `dir`/`name` (--save-logs); a failure is printed as
// "<program>: save <from>: ..." and otherwise ignored (the logs are a courtesy).
void saveLog(const std::filesystem::path& from, const std::filesystem::path& dir,
             const std::string& name, std::string_view program);

// Keeps the first error of a sequence of cleanup steps that all run.
void keepFirst(Status& first, Status next);

}  // namespace contd::bench
