// The lifecycle benchmark's memory mode (--memory N): the memory that idle containers cost in
// the processes around them, contd's against ctr's, in one run.
//
// First N idle containers through `ctr run -d` (runc, a shim per container, ctr's file://
// log: no logger process), read at N/2 and at N, then removed, and their shims waited for;
// then N through contd (its runtime and shim group), read at N/2 and N. The sides do not
// overlap: every shim maps the same containerd-shim-runc-v2 executable, and PSS would
// otherwise share those pages between contd's shims and ctr's.
//
// What is read, from /proc/PID/smaps_rollup: the shims serving the containers, found by pid
// (each container's init, from containerd's task, has its shim as parent: the shim is the
// init's child subreaper), and for contd the keeper container's process and the log drivers:
// the shims' children running contd-shim-logs (the holders) and the holders' children (their
// writers).

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <set>
#include <thread>

#include "tests/bench/bench_util.h"
#include "tests/bench/lifecycle_bench.h"

namespace contd::bench::lifecycle {

namespace {

// The keeper container of a shim group (docs/decisions/shim-keeper.md).
constexpr char kKeeperId[] = "contd-shim-keeper";
constexpr auto kShimExitTimeout = 15s;

std::string idleId(int index) { return "mem-" + std::to_string(index); }

// The shim serving container `id` of `ns`: the parent of its init. Checked against the
// shim's command line, which names the namespace.
Result<pid_t> shimOf(containerd::GrpcClient& client, const std::string& ns,
                     const std::string& id) {
  auto task = client.getTask(ns, id);
  if (!task) {
    return task.error().wrap("task of '" + id + "'");
  }
  const auto parent = task->pid != 0 ? parentOf(static_cast<pid_t>(task->pid)) : std::nullopt;
  if (!parent || *parent <= 1) {
    return unavailable("container '" + id + "': no shim above its init pid " +
                       std::to_string(task->pid));
  }
  std::string cmdline = readFile("/proc/" + std::to_string(*parent) + "/cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  if (cmdline.find(" -namespace " + ns + " ") == std::string::npos) {
    return unavailable("container '" + id + "': the parent of its init, pid " +
                       std::to_string(*parent) + ", is not a shim of namespace " + ns + ": " +
                       cmdline);
  }
  return *parent;
}

Result<std::vector<pid_t>> shimsOf(containerd::GrpcClient& client, const std::string& ns,
                                   int count) {
  std::set<pid_t> shims;
  for (int i = 0; i < count; ++i) {
    auto shim = shimOf(client, ns, idleId(i));
    if (!shim) {
      return shim.error();
    }
    shims.insert(*shim);
  }
  return std::vector<pid_t>(shims.begin(), shims.end());
}

// The log drivers among the shims' children: processes running `exe` (holders), and each
// holder's children (its writer). Returns the holders' count and all their pids.
std::pair<int, std::vector<pid_t>> logDrivers(const std::vector<pid_t>& shims,
                                              const fs::path& exe) {
  int holders = 0;
  std::vector<pid_t> pids;
  for (const pid_t shim : shims) {
    for (const pid_t child : childrenOf(shim)) {
      std::error_code ec;
      if (fs::read_symlink("/proc/" + std::to_string(child) + "/exe", ec) != exe) {
        continue;
      }
      ++holders;
      pids.push_back(child);
      for (const pid_t writer : childrenOf(child)) {
        pids.push_back(writer);
      }
    }
  }
  return {holders, pids};
}

// Sleeps `ms`, returning early when interrupted.
void pause(int ms) {
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < until && !interrupted()) {
    std::this_thread::sleep_for(50ms);
  }
}

bool running(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

double perContainer(std::uint64_t kib, int containers) {
  return containers > 0 ? static_cast<double>(kib) / containers : 0;
}

// KiB a further container adds to `kib` (of the shims with their keeper) between the points.
double slope(const MemoryPoint& half, const MemoryPoint& full, bool private_kib) {
  const auto total = [&](const MemoryPoint& p) {
    return private_kib ? p.shim.private_kib + p.keeper.private_kib : p.shim.pss + p.keeper.pss;
  };
  const int more = full.containers - half.containers;
  return more > 0 ? (static_cast<double>(total(full)) - static_cast<double>(total(half))) / more
                  : 0;
}

std::string kib(double value) { return formatFixed(value, 0); }

std::string met(double value, double target, bool strictly) {
  return (strictly ? value < target : value <= target) ? "met" : "MISSED";
}

}  // namespace

Status LifecycleBench::startIdle(bool contd, int from, int to) {
  for (int i = from; i < to; ++i) {
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    auto ms = contd ? clientRun(idleId(i), kGracefulScript, options_.shutdown_timeout_ms)
                    : runContainer(Variant::kCtr, idleId(i));
    if (!ms) {
      return ms.error().wrap(std::string(contd ? "contd" : "ctr") + " idle container");
    }
  }
  return okStatus();
}

Result<MemoryPoint> LifecycleBench::readMemory(containerd::GrpcClient& client, bool contd,
                                               int count) const {
  const std::string& ns = contd ? contd_ns_ : ctr_ns_;
  auto shims = shimsOf(client, ns, count);
  if (!shims) {
    return shims.error();
  }
  MemoryPoint point;
  point.containers = count;
  point.shims = static_cast<int>(shims->size());
  const auto shim_kib = smapsSum(*shims);
  if (!shim_kib) {
    return unavailable("a shim of namespace " + ns + " ended while its memory was read");
  }
  point.shim = *shim_kib;
  if (!contd) {
    return point;
  }
  if (auto keeper = client.getTask(ns, kKeeperId); keeper && keeper->pid != 0) {
    point.keeper = smapsOf(static_cast<pid_t>(keeper->pid)).value_or(SmapsKib{});
  }
  std::error_code ec;
  const fs::path exe = fs::canonical(fs::path(options_.contd).parent_path() / "contd-shim-logs", ec);
  const auto [holders, pair_pids] = logDrivers(*shims, exe);
  if (holders != count || static_cast<int>(pair_pids.size()) != 2 * count) {
    return unavailable("expected " + std::to_string(count) + " log drivers (holder and writer) of " +
                       exe.string() + " under contd's shims, found " + std::to_string(holders) +
                       " holders and " + std::to_string(pair_pids.size()) + " processes");
  }
  point.log_pairs = holders;
  point.logs = smapsSum(pair_pids).value_or(SmapsKib{});
  return point;
}

Result<MemorySide> LifecycleBench::memorySide(containerd::GrpcClient& client, bool contd) {
  MemorySide side;
  const int half = std::max(1, options_.memory / 2);
  for (MemoryPoint* point : {&side.half, &side.full}) {
    const int count = point == &side.half ? half : options_.memory;
    const int from = point == &side.half ? 0 : half;
    CONTD_RETURN_IF_ERROR(startIdle(contd, from, count));
    pause(options_.memory_settle_ms);
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    auto read = readMemory(client, contd, count);
    if (!read) {
      return read.error();
    }
    *point = *read;
  }
  return side;
}

Status LifecycleBench::removeCtrIdle(int count) {
  auto client = containerd::GrpcClient::connect(containerd_->socketPath(), 10s);
  if (!client) {
    return client.error();
  }
  auto shims = shimsOf(**client, ctr_ns_, count);
  if (!shims) {
    return shims.error();
  }
  for (int i = 0; i < count; ++i) {
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    if (auto ms = removeContainer(Variant::kCtr, idleId(i)); !ms) {
      return ms.error();
    }
  }
  const auto deadline = Clock::now() + kShimExitTimeout;
  while (std::any_of(shims->begin(), shims->end(), running)) {
    if (Clock::now() > deadline) {
      return unavailable("ctr's shims did not exit within 15 s of their containers' removal");
    }
    std::this_thread::sleep_for(50ms);
  }
  return okStatus();
}

Status LifecycleBench::measureMemory() {
  auto client = containerd::GrpcClient::connect(containerd_->socketPath(), 10s);
  if (!client) {
    return client.error();
  }
  auto ctr = memorySide(**client, /*contd=*/false);
  if (!ctr) {
    return ctr.error().wrap("ctr's side");
  }
  ctr_memory_ = *ctr;
  CONTD_RETURN_IF_ERROR(removeCtrIdle(options_.memory));
  auto contd = memorySide(**client, /*contd=*/true);
  if (!contd) {
    return contd.error().wrap("contd's side");
  }
  contd_memory_ = *contd;
  load_after_ = loadAverage();
  return okStatus();
}

void LifecycleBench::printMemorySetting() const {
  printMachine(versions_, load_before_, load_after_);
  std::printf("memory of %d idle containers a side, read at %d and at %d containers, %d ms after\n"
              "the last Run; first ctr's side alone, then (ctr's removed, its shims gone) contd's.\n",
              options_.memory, contd_memory_.half.containers, options_.memory,
              options_.memory_settle_ms);
  std::printf("contd: runtime %s, shim group %s, log driver contd-shim-logs (holder + writer);\n"
              "ctr: runc, a shim per container, IO %s\n",
              options_.runtime.c_str(), options_.shim_group.c_str(),
              options_.ctr_io == "file" ? "file:// (no logger process)" : "fifos");
  std::printf("command: /bin/sh -c \"%s\"\n", kGracefulScript);
}

void LifecycleBench::printMemory() const {
  std::printf("KiB from /proc/PID/smaps_rollup: PSS (private)\n");
  std::printf("%s%s%s%s%s%s\n", padRight("", 30).c_str(), padLeft("containers", 11).c_str(),
              padLeft("shims", 6).c_str(), padLeft("shims", 18).c_str(),
              padLeft("keeper", 14).c_str(), padLeft("log drivers", 18).c_str());
  const auto cell = [](const SmapsKib& m) {
    return std::to_string(m.pss) + " (" + std::to_string(m.private_kib) + ")";
  };
  for (const bool contd : {true, false}) {
    const MemorySide& side = contd ? contd_memory_ : ctr_memory_;
    for (const MemoryPoint* p : {&side.half, &side.full}) {
      std::printf("%s%s%s%s%s%s\n", padRight(contd ? "contd" : "ctr", 30).c_str(),
                  padLeft(std::to_string(p->containers), 11).c_str(),
                  padLeft(std::to_string(p->shims), 6).c_str(), padLeft(cell(p->shim), 18).c_str(),
                  padLeft(contd ? cell(p->keeper) : "-", 14).c_str(),
                  padLeft(contd ? cell(p->logs) : "-", 18).c_str());
    }
  }
  printRule();
  printMemoryTargets();
}

void LifecycleBench::printMemoryTargets() const {
  const MemoryPoint& c = contd_memory_.full;
  const MemoryPoint& r = ctr_memory_.full;
  const double c_shim = perContainer(c.shim.pss + c.keeper.pss, c.containers);
  const double c_logs = perContainer(c.logs.pss, c.containers);
  const double r_shim = perContainer(r.shim.pss, r.containers);
  std::printf("PSS per idle container at %d, KiB      shim share   log pair     total\n",
              c.containers);
  std::printf("contd (shim + keeper) / N, log pair / N %10s %10s %9s   total < %llu: %s, log "
              "pair <= %llu: %s\n",
              kib(c_shim).c_str(), kib(c_logs).c_str(), kib(c_shim + c_logs).c_str(),
              static_cast<unsigned long long>(kMemoryTargetKib),
              met(c_shim + c_logs, kMemoryTargetKib, true).c_str(),
              static_cast<unsigned long long>(kLogPairTargetKib),
              met(c_logs, kLogPairTargetKib, false).c_str());
  std::printf("ctr (shims / N)                         %10s %10s %9s   contd / ctr %s\n",
              kib(r_shim).c_str(), "-", kib(r_shim).c_str(),
              formatRatio(c_shim + c_logs, r_shim).c_str());
  const double growth = slope(contd_memory_.half, c, false);
  std::printf("shims' growth per further container (%d -> %d): contd %s KiB PSS (%s private), "
              "ctr %s KiB PSS\n",
              contd_memory_.half.containers, c.containers, kib(growth).c_str(),
              kib(slope(contd_memory_.half, c, true)).c_str(),
              kib(slope(ctr_memory_.half, r, false)).c_str());
  // The shims' memory as a fixed part plus `growth` per container: per container the fixed
  // part / N + growth + the log pair, under the target from fixed / (target - growth - pair).
  const double fixed = c_shim * c.containers - growth * c.containers;
  const double room = static_cast<double>(kMemoryTargetKib) - growth - c_logs;
  std::printf("contd's shims: %s KiB fixed + %s KiB per container; per container that is fixed "
              "/ N + %s (with the log pair),\nunder %llu KiB %s\n",
              kib(fixed).c_str(), kib(growth).c_str(), kib(growth + c_logs).c_str(),
              static_cast<unsigned long long>(kMemoryTargetKib),
              room > 0 ? ("from N = " + std::to_string(static_cast<int>(fixed / room) + 1) +
                          " containers in the group (extrapolated)")
                             .c_str()
                       : "for no N: the growth and the log pair alone exceed it");
}

}  // namespace contd::bench::lifecycle
