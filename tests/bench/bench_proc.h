#pragma once
// What the benchmarks read about other processes from /proc: memory, CPU time, the list of
// running pids and who is whose parent; and a thread that samples a process's RSS while
// something runs.
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

// The proportional and the private memory of processes, from /proc/<pid>/smaps_rollup, in
// KiB: PSS charges a page shared by n processes 1/n to each; private is Private_Clean plus
// Private_Dirty (what the processes alone map).
struct SmapsKib {
  std::uint64_t pss = 0;
  std::uint64_t private_kib = 0;

  SmapsKib& operator+=(const SmapsKib& other) {
    pss += other.pss;
    private_kib += other.private_kib;
    return *this;
  }
};
// One process's figures; nullopt when it is gone (or smaps_rollup is unreadable).
std::optional<SmapsKib> smapsOf(pid_t pid);
// The sum over `pids`; nullopt when any of them is missing.
std::optional<SmapsKib> smapsSum(const std::vector<pid_t>& pids);

// The parent of a running process, from /proc/<pid>/stat; nullopt once it is gone.
std::optional<pid_t> parentOf(pid_t pid);
// The running processes whose parent is `parent`.
std::vector<pid_t> childrenOf(pid_t parent);

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
