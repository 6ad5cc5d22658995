// bench_shim_logs: throughput and cost of contd-shim-logs against containerd's built-in
// file:// logger, on the same data, in one run, on a private containerd with runc.
//
// The container is `/bin/cat blk blk …`: a 5 MB block of 100-byte lines (99 'x' + '\n')
// stored in the rootfs, repeated to the requested size. busybox cat moves file pages into
// the pipe with sendfile, so the writer is not the bottleneck (500 MB in < 0.1 s into a
// pipe on the reference machine, where `yes | head -c` managed about 300 MB/s).
//
// For each logger: wall time from task Start to task exit (the writer is paced by the
// pipe, so this is the logger's throughput within one pipe buffer), CPU seconds of the
// process that copies (contd-shim-logs from /proc/PID/stat just before Delete; for file://
// the runc shim, whose goroutines copy), and the shim's own CPU. Then the PSS of one idle
// contd-shim-logs pipeline, and its PSS after the run (buffers touched). contd-shim-logs is
// two processes (docs/logs.md): the holder containerd starts and its writer; CPU and PSS
// are the sums over both.
//
//   bench_shim_logs [--mb N] [--runs N]      (root; build Release)

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "tests/bench/bench_proc.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/stats.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/test_spec.h"
#include "tests/integration/support/unique_name.h"

#ifndef CONTD_SHIM_LOGS_BIN
#error "CONTD_SHIM_LOGS_BIN must name the contd-shim-logs executable"
#endif

namespace contd::bench {
namespace {

namespace support = ::contd::testing;
namespace fs = std::filesystem;
using containerd::ContainerRecord;
using containerd::GrpcClient;
using containerd::TaskIo;
using namespace std::chrono_literals;

constexpr std::size_t kLineBytes = 100;
constexpr std::size_t kBlockBytes = 5'000'000;
constexpr std::size_t kCriOverhead = 40;  // timestamp, stream, tag, spaces

// utime + stime of `pid` in seconds, or -1.
double cpuSecondsOr(pid_t pid) { return cpuSeconds(pid).value_or(-1); }

// PSS of `pids` summed, KiB, or -1 when one is gone.
long pssOf(const std::vector<pid_t>& pids) {
  const auto sum = smapsSum(pids);
  return sum ? static_cast<long>(sum->pss) : -1;
}

// The process whose executable is `exe` and whose environment or command line names
// ns and id, or 0.
pid_t findProcess(const fs::path& exe, const std::string& ns, const std::string& id) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code link_ec;
    if (fs::read_symlink(entry.path() / "exe", link_ec) != exe) {
      continue;
    }
    std::string both = readFile(entry.path() / "environ") + readFile(entry.path() / "cmdline");
    std::replace(both.begin(), both.end(), '\0', ' ');
    if (both.find("CONTAINER_ID=" + id + " CONTAINER_NAMESPACE=" + ns) != std::string::npos ||
        both.find("-namespace " + ns + " -id " + id + " ") != std::string::npos) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return 0;
}

// Every contd-shim-logs process (holder and writer) serving ns/id.
std::vector<pid_t> findLoggers(const std::string& ns, const std::string& id) {
  const fs::path exe = fs::canonical(CONTD_SHIM_LOGS_BIN);
  const std::string env = "CONTAINER_ID=" + id + std::string(1, '\0') + "CONTAINER_NAMESPACE=" +
                          ns + std::string(1, '\0');
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code link_ec;
    if (fs::read_symlink(entry.path() / "exe", link_ec) == exe &&
        readFile(entry.path() / "environ") == env) {
      pids.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return pids;
}

struct RunResult {
  double seconds = 0;
  double copier_cpu = 0;  // contd-shim-logs, or the runc shim for file://
  double shim_cpu = 0;    // the runc shim (for binary://: its own share)
  std::uint64_t file_bytes = 0;
  long logger_pss_after = -1;
};

class Bench {
public:
  Status setUp() {
    auto containerd = support::PrivateContainerd::start();
    if (!containerd) {
      return containerd.error();
    }
    containerd_ = std::move(*containerd);
    auto rootfs = support::BusyboxRootfs::build();
    if (!rootfs) {
      return rootfs.error();
    }
    rootfs_.emplace(std::move(*rootfs));
    auto client = GrpcClient::connect(containerd_->socketPath(), 5s);
    if (!client) {
      return client.error();
    }
    client_ = std::move(*client);
    ns_ = support::uniqueName("bench");
    CONTD_RETURN_IF_ERROR(client_->ensureNamespace(ns_));
    auto netns = support::NetworkNamespace::create("contd-bench");
    if (!netns) {
      return netns.error();
    }
    netns_ = std::move(*netns);
    auto dir = support::TempDir::make("contd-bench-logs");
    if (!dir) {
      return dir.error();
    }
    dir_.emplace(std::move(*dir));
    block_name_ = ns_ + "-block";
    std::ofstream block(rootfs_->path() / "tmp" / block_name_, std::ios::binary);
    const std::string line = std::string(kLineBytes - 1, 'x') + "\n";
    for (std::size_t i = 0; i < kBlockBytes / kLineBytes; ++i) {
      block << line;
    }
    return okStatus();
  }

  void tearDown() {
    if (client_) {
      Status purged = support::purgeNamespace(*client_, ns_);
      if (!purged) {
        std::fprintf(stderr, "purge: %s\n", purged.error().message.c_str());
      }
    }
    if (netns_) {
      (void)netns_->remove();
    }
    if (rootfs_) {
      std::error_code ec;
      fs::remove(rootfs_->path() / "tmp" / block_name_, ec);
    }
    if (dir_) {
      (void)dir_->remove();
    }
    client_.reset();
    containerd_.reset();
    rootfs_.reset();
  }

  std::string binaryUri() const {
    return "binary://" + std::string(CONTD_SHIM_LOGS_BIN) + "?log_root=" + dir_->string() +
           "&max_size=0&max_files=1";
  }

  Status createContainer(const std::string& id, std::vector<std::string> args) {
    support::TestSpec spec;
    spec.rootfs = rootfs_->path().string();
    spec.args = std::move(args);
    spec.netns_path = netns_->path();
    spec.cgroups_path = "/" + ns_ + "/" + id;
    ContainerRecord record;
    record.id = id;
    record.spec_json = support::testSpecJson(spec);
    return client_->createContainer(ns_, record);
  }

  Result<RunResult> run(bool binary, std::size_t blocks, int n) {
    const std::string id = (binary ? "bin" : "file") + std::to_string(n);
    std::vector<std::string> args = {"/bin/cat"};
    for (std::size_t i = 0; i < blocks; ++i) {
      args.push_back("/tmp/" + block_name_);
    }
    CONTD_RETURN_IF_ERROR(createContainer(id, std::move(args)));
    const fs::path file = binary ? dir_->path() / ns_ / (id + ".log") : dir_->path() / (id + ".log");
    const std::string uri = binary ? binaryUri() : "file://" + file.string();
    auto task = client_->createTask(ns_, id, TaskIo{"", uri, uri}, 10s);
    if (!task) {
      return task.error();
    }
    const pid_t runc_shim = findRuncShim(id);
    std::vector<pid_t> loggers;
    for (int tries = 0; binary && tries < 100; ++tries) {  // the holder starts the writer
      loggers = findLoggers(ns_, id);
      if (loggers.size() == 2) {
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    if (binary && loggers.size() != 2) {
      return internalError("no contd-shim-logs process for '" + id + "'");
    }
    const double shim_cpu0 = runc_shim != 0 ? cpuSecondsOr(runc_shim) : 0;
    const auto start = Clock::now();
    CONTD_RETURN_IF_ERROR(client_->startTask(ns_, id));
    auto exit = client_->waitTask(ns_, id, 300s);
    if (!exit) {
      return exit.error();
    }
    RunResult r;
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    r.shim_cpu = runc_shim != 0 ? cpuSecondsOr(runc_shim) - shim_cpu0 : -1;
    if (binary) {
      std::this_thread::sleep_for(100ms);  // let it finish the last pipe buffer
      r.copier_cpu = 0;
      for (const pid_t pid : loggers) {
        r.copier_cpu += cpuSecondsOr(pid);
      }
      r.logger_pss_after = pssOf(loggers);
    } else {
      r.copier_cpu = r.shim_cpu;
    }
    CONTD_RETURN_IF_ERROR(client_->deleteTask(ns_, id));
    CONTD_RETURN_IF_ERROR(client_->deleteContainer(ns_, id));
    std::error_code ec;
    r.file_bytes = fs::file_size(file, ec);
    fs::remove(file, ec);
    return r;
  }

  pid_t findRuncShim(const std::string& id) {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
      const fs::path exe = fs::path(dir) / "containerd-shim-runc-v2";
      std::error_code ec;
      if (fs::exists(exe, ec)) {
        if (pid_t pid = findProcess(fs::canonical(exe), ns_, id); pid != 0) {
          return pid;
        }
      }
    }
    return 0;
  }

  // PSS (and private) KiB of one idle logger pipeline (holder + writer): a container that
  // prints nothing.
  Result<std::pair<long, long>> idlePss() {
    CONTD_RETURN_IF_ERROR(createContainer("idle", {"/bin/sleep", "1000"}));
    const std::string uri = binaryUri();
    CONTD_RETURN_IF_ERROR(client_->createTask(ns_, "idle", TaskIo{"", uri, uri}, 10s));
    CONTD_RETURN_IF_ERROR(client_->startTask(ns_, "idle"));
    std::this_thread::sleep_for(300ms);
    const std::vector<pid_t> loggers = findLoggers(ns_, "idle");
    if (loggers.size() != 2) {
      return internalError("expected holder and writer for 'idle', found " +
                           std::to_string(loggers.size()) + " contd-shim-logs processes");
    }
    for (const pid_t pid : loggers) {
      const SmapsKib one = smapsOf(pid).value_or(SmapsKib{});
      std::fprintf(stderr, "contd-shim-logs pid %d: PSS %llu KiB, private %llu KiB\n", pid,
                   static_cast<unsigned long long>(one.pss),
                   static_cast<unsigned long long>(one.private_kib));
    }
    const auto both = smapsSum(loggers);
    const long pss = both ? static_cast<long>(both->pss) : -1;
    const long priv = both ? static_cast<long>(both->private_kib) : -1;
    CONTD_RETURN_IF_ERROR(client_->killTask(ns_, "idle", SIGKILL, true));
    CONTD_RETURN_IF_ERROR(client_->waitTask(ns_, "idle", 10s));
    CONTD_RETURN_IF_ERROR(client_->deleteTask(ns_, "idle"));
    CONTD_RETURN_IF_ERROR(client_->deleteContainer(ns_, "idle"));
    return std::make_pair(pss, priv);
  }

private:
  std::unique_ptr<support::PrivateContainerd> containerd_;
  std::optional<support::BusyboxRootfs> rootfs_;
  std::unique_ptr<GrpcClient> client_;
  std::string ns_;
  std::unique_ptr<support::NetworkNamespace> netns_;
  std::optional<support::TempDir> dir_;
  std::string block_name_;
};

// What the runs measured, per logger (index 1: contd-shim-logs, 0: containerd's file://).
struct Samples {
  std::vector<double> mbps[2];
  std::vector<double> cpu[2];
  std::vector<double> shim_cpu[2];
  long pss_after = -1;
};

struct Workload {
  std::size_t blocks = 0;
  double megabytes = 0;
  std::uint64_t lines = 0;
};

// Each run writes the workload through both loggers and checks the log holds every byte.
int runAll(Bench& bench, const Workload& work, int runs, Samples& samples) {
  for (int n = 0; n < runs; ++n) {
    for (int binary = 1; binary >= 0; --binary) {
      auto r = bench.run(binary == 1, work.blocks, n);
      if (!r) {
        std::fprintf(stderr, "run: %s\n", r.error().message.c_str());
        return 1;
      }
      const std::uint64_t want =
          binary ? work.lines * (kLineBytes + kCriOverhead) : work.blocks * kBlockBytes;
      if (r->file_bytes != want) {
        std::fprintf(stderr, "%s run %d: log file has %llu bytes, expected %llu\n",
                     binary ? "binary" : "file", n, static_cast<unsigned long long>(r->file_bytes),
                     static_cast<unsigned long long>(want));
        return 1;
      }
      samples.mbps[binary].push_back(work.megabytes / r->seconds);
      samples.cpu[binary].push_back(r->copier_cpu);
      samples.shim_cpu[binary].push_back(r->shim_cpu);
      if (binary) {
        samples.pss_after = std::max(samples.pss_after, r->logger_pss_after);
      }
    }
  }
  return 0;
}

void printReport(const Workload& work, int runs, const Samples& s,
                 const Result<std::pair<long, long>>& idle) {
  auto median = [](std::vector<double> v) { return summarize(std::move(v)).median; };
  std::printf("%.0f MB of %zu-byte lines (%llu lines), %d run(s) each, medians\n\n",
              work.megabytes, kLineBytes, static_cast<unsigned long long>(work.lines), runs);
  std::printf("| logger | MB/s | CPU s of the copier | CPU s of the runc shim | file bytes/line |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: |\n");
  std::printf("| contd-shim-logs (binary://, CRI) | %s | %s | %s | %zu |\n",
              formatFixed(median(s.mbps[1]), 0).c_str(), formatFixed(median(s.cpu[1]), 2).c_str(),
              formatFixed(median(s.shim_cpu[1]), 2).c_str(), kLineBytes + kCriOverhead);
  std::printf("| containerd file:// (raw) | %s | %s (runc shim) | %s | %zu |\n",
              formatFixed(median(s.mbps[0]), 0).c_str(), formatFixed(median(s.cpu[0]), 2).c_str(),
              formatFixed(median(s.shim_cpu[0]), 2).c_str(), kLineBytes);
  std::printf("\nper run MB/s: binary");
  for (double v : s.mbps[1]) std::printf(" %.0f", v);
  std::printf("; file");
  for (double v : s.mbps[0]) std::printf(" %.0f", v);
  std::printf("\n");
  if (idle) {
    std::printf("contd-shim-logs idle (holder + writer): PSS %ld KiB, private %ld KiB; after the "
                "run: PSS %ld KiB\n",
                idle->first, idle->second, s.pss_after);
  } else {
    std::fprintf(stderr, "idle PSS: %s\n", idle.error().message.c_str());
  }
}

int benchMain(int argc, char** argv) {
  std::size_t mb = 500;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view key = argv[i];
    if (key == "--mb") {
      mb = std::strtoul(argv[i + 1], nullptr, 10);
    } else if (key == "--runs") {
      runs = std::atoi(argv[i + 1]);
    }
  }
  if (mb < 5 || runs < 1) {
    std::fprintf(stderr, "usage: bench_shim_logs [--mb N>=5] [--runs N>=1]\n");
    return 2;
  }
  log::init("warn");
  const std::string missing = support::missingContainerdPrerequisites();
  if (!missing.empty()) {
    std::fprintf(stderr, "needs: %s\n", missing.c_str());
    return 2;
  }
  Workload work;
  work.blocks = mb * 1'000'000 / kBlockBytes;
  work.megabytes = static_cast<double>(work.blocks * kBlockBytes) / 1e6;
  work.lines = work.blocks * kBlockBytes / kLineBytes;

  Bench bench;
  if (Status set_up = bench.setUp(); !set_up) {
    std::fprintf(stderr, "set-up: %s\n", set_up.error().message.c_str());
    bench.tearDown();
    return 1;
  }
  Samples samples;
  const int rc = runAll(bench, work, runs, samples);
  auto idle = bench.idlePss();
  bench.tearDown();
  if (rc != 0) {
    return rc;
  }
  printReport(work, runs, samples, idle);
  return 0;
}

}  // namespace
}  // namespace contd::bench

int main(int argc, char** argv) { return contd::bench::benchMain(argc, argv); }
