#pragma once
// What the benchmarks read about other processes from /proc: memory, CPU time, and the
// list of running pids; and a thread that samples a process's RSS while something runs.
//
// Threading: the functions are plain reads; an RssSampler is driven by one thread.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "modules/common/result.h"
#include "tests/bench/bench_util.h"

namespace contd::bench {

// The pids of /proc (every process, 1 included), in directory order.
std::vector<pid_t> processIds();

// A "Key:   1234 kB" field of /proc/<pid>/<file> ("status", "smaps_rollup") in KiB (for
// "Threads" the plain number), or nullopt when the process or the field is missing.
std::optional<std::uint64_t> procKib(pid_t pid, std::string_view file, std::string_view key);
std::optional<std::uint64_t> statusKib(pid_t pid, std::string_view key);
// statusKib in MiB, 0 when missing.
double statusMib(pid_t pid, std::string_view key);

// User plus system CPU seconds of a running process, from /proc/<pid>/stat; nullopt once it
// is gone.
std::optional<double> cpuSeconds(pid_t pid);

// Sets the process's VmHWM (peak RSS) back to its current RSS (Linux 4.0 and later).
Status resetPeakRss(pid_t pid);

struct RssSample {
  double ms = 0;  // since the sampler's start
  double mib = 0;
};

// Samples a process's VmRSS every `interval` on a thread of its own until stopped.
class RssSampler {
public:
  RssSampler(pid_t pid, Clock::time_point start, std::chrono::milliseconds interval);
  ~RssSampler() { stop(); }
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  std::vector<RssSample> stop();

private:
  std::atomic<bool> stop_{false};
  std::vector<RssSample> samples_;  // written by the thread until it is joined
  std::thread thread_;
};

}  // namespace contd::bench
