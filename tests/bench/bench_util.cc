#include "tests/bench/bench_util.h"

#include <signal.h>

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

void keepFirst(Status& first, Status next) {
  if (first && !next) {
    first = std::move(next);
  }
}

}  // namespace contd::bench
