#include "tests/bench/bench_util.h"

#include "tests/integration/support/require.h"

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace contd::bench {

namespace {
volatile sig_atomic_t g_interrupted = 0;

void onSignal(int) { g_interrupted = 1; }
}  // namespace

void installSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocked poll/sleep returns early
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    ::sigaction(sig, &action, nullptr);
  }
}

bool interrupted() { return g_interrupted != 0; }

Status checkInterrupted() {
  return interrupted() ? makeError(Code::kUnknown, "interrupted") : okStatus();
}

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::filesystem::path ownDirectory() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(".") : self.parent_path();
}

std::string orNextToSelf(const std::string& path, std::string_view name) {
  return path.empty() ? (ownDirectory() / name).string() : path;
}

std::string addMissingPrograms(std::string missing, const std::vector<std::string>& programs) {
  for (const std::string& program : programs) {
    if (!::contd::testing::findOnPath(program)) {
      missing += (missing.empty() ? "needs " : ", ") + program + " (executable)";
    }
  }
  return missing;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string loadAverage() {
  const std::string text = readFile("/proc/loadavg");
  // "0.52 0.58 0.59 1/123 4567": the three averages.
  std::size_t end = 0;
  for (int field = 0; field < 3 && end != std::string::npos; ++field) {
    end = text.find(' ', end + (field == 0 ? 0 : 1));
  }
  return text.substr(0, end);
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::string tail(const std::string& text, std::size_t max) {
  return trimmed(text.size() > max ? "..." + text.substr(text.size() - max) : text);
}

Status commandSucceeded(const std::vector<std::string>& argv,
                        const Result<::contd::testing::CommandResult>& result,
                        int expected_exit) {
  if (!result) {
    return result.error();
  }
  if (result->exit_code != expected_exit) {
    const std::string err = trimmed(result->err);
    return internalError("'" + ::contd::testing::describeCommand(argv) + "' exited with " +
                         std::to_string(result->exit_code) + " (expected " +
                         std::to_string(expected_exit) + ")" + (err.empty() ? "" : ": " + err));
  }
  return okStatus();
}

void saveLog(const std::filesystem::path& from, const std::filesystem::path& dir,
             const std::string& name, std::string_view program) {
  std::error_code ec;
  if (!std::filesystem::exists(from, ec)) {
    return;
  }
  std::filesystem::copy_file(from, dir / name, std::filesystem::copy_options::overwrite_existing,
                             ec);
  if (ec) {
    std::fprintf(stderr, "%.*s: save %s: %s\n", static_cast<int>(program.size()),
                 program.data(), from.c_str(), ec.message().c_str());
  }
}

void keepFirst(Status& first, Status next) {
  if (first && !next) {
    first = std::move(next);
  }
}

}  // namespace contd::bench
