#pragma once
// The pull benchmark (bench_pull.cc has its command line and what it measures): its
// options, the images it pushes, what one round records, and the PullBench that drives it.
// pull_setup.cc starts and removes the private containerd, registry and contd,
// pull_images.cc builds and pushes the images, pull_runs.cc times the pulls,
// pull_report.cc prints.
//
// Threading: one thread (main's) drives a PullBench; an RssSampler adds one during the
// traced pull.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/result.h"
#include "tests/bench/bench_proc.h"
#include "tests/bench/stats.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/registry.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::bench::pull {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;

constexpr double kPeakRssTargetMib = 64;
constexpr std::uint64_t kMiB = 1024 * 1024;
// contd's layer downloads per pull (GrpcImageStore::Options::parallel_fetches).
constexpr int kContdParallelFetches = 3;
constexpr auto kPullTimeout = 600s;
constexpr auto kCommandTimeout = 120s;
// How long a pull that should fetch nothing waits for a late access-log line.
constexpr auto kLateLogLine = 300ms;
constexpr auto kRssSampleInterval = 5ms;

inline double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / kMiB; }
inline std::string format1(double value) { return formatFixed(value, 1); }

struct Options {
  int rounds = 3;
  int warmup = 1;
  int layers = 5;
  int big_layer_mib = 20;
  int small_layer_mib = 2;
  int ctr_downloads = kContdParallelFetches;
  bool trace = true;
  std::uint64_t seed = 1;
  std::string contd;
  std::string contctl;
  std::string ctr = "ctr";
  std::string save_logs;
  bool help = false;
};

struct ImageSpec {
  std::string label;  // "big", "small"
  std::string repo;   // "bench/big"
  int layers = 5;
  std::uint64_t layer_bytes = 0;  // of the random file in each layer
};

struct PushedImage {
  ImageSpec spec;
  std::string ref;                // <host>/<repo>:1
  std::uint64_t blob_bytes = 0;   // config and layers as stored: what a full pull fetches
  std::size_t blob_count = 0;     // config and layers
};

// An OCI image layout tarball of `spec`: every layer tar+gzip with one file of random
// bytes, a config whose rootfs.diff_ids are the sha256 of the uncompressed tars.
// `blob_bytes` gets the size of config and layers.
std::string buildArchive(const ImageSpec& spec, std::uint64_t seed, const std::string& ref_name,
                         std::uint64_t* blob_bytes);

// ---- What is measured

struct ContdPull {
  std::string ns;
  double ms = 0;
  double idle_mib = 0;   // VmRSS just before
  double peak_mib = 0;   // VmHWM after a reset just before
  double after_mib = 0;  // VmRSS just after
  double contd_cpu_s = 0;
  double contctl_cpu_s = 0;
  double containerd_cpu_s = 0;
  double registry_cpu_s = 0;
  std::uint64_t fetched = 0;
  std::size_t gets = 0;
};

struct CachedPull {
  double ms = 0;
  std::uint64_t fetched = 0;
  std::size_t gets = 0;
};

struct CtrPull {
  double ms = 0;
  std::optional<double> unpack_ms;  // from ctr's "done:" line
  double ctr_cpu_s = 0;
  double containerd_cpu_s = 0;
  double registry_cpu_s = 0;
  std::uint64_t fetched = 0;
  std::size_t gets = 0;
};

struct RoundResult {
  std::size_t image = 0;  // index into images_
  int round = 0;
  bool contd_first = true;
  ContdPull contd;
  CachedPull cached;
  CtrPull ctr;
};

// One progress message of the traced pull, with its arrival time.
struct TraceStep {
  double ms = 0;
  v1::PullImageProgress::State state = v1::PullImageProgress::STATE_UNSPECIFIED;
  std::string digest;
};

struct Trace {
  double ms = 0;  // until the stream ended
  double peak_mib = 0;
  double idle_mib = 0;
  std::vector<TraceStep> steps;
  std::vector<RssSample> rss;
};

// The medians of one image's rounds, for the report.
struct Medians {
  Summary contd, ctr, logged, cached, ctr_unpack, idle, peak, after, growth;
  Summary contd_cpu, contctl_cpu, containerd_contd, registry_contd, ctr_cpu, containerd_ctr,
      registry_ctr;
};

class PullBench {
public:
  explicit PullBench(Options options) : options_(std::move(options)) {}
  ~PullBench();
  PullBench(const PullBench&) = delete;
  PullBench& operator=(const PullBench&) = delete;

  Status setUp();
  Status measure();
  Status trace();
  void report() const;
  // Removes everything the benchmark made; tries every step and returns the first error.
  // Idempotent.
  Status cleanUp();

private:
  Status pushImage(const ImageSpec& spec);
  Status round(int index, bool measured);
  Result<ContdPull> pullWithContd(const PushedImage& image, const std::string& ns);
  Result<CachedPull> pullCached(const PushedImage& image, const std::string& ns);
  Result<CtrPull> pullWithCtr(const PushedImage& image, const std::string& ns);
  // Blob GETs and bytes the registry logged for `repo` since `before`, once at least
  // `expected` more GETs are logged (or a moment has passed, for expected 0).
  std::pair<std::size_t, std::uint64_t> fetchedSince(const std::string& repo,
                                                     std::pair<std::size_t, std::uint64_t> before,
                                                     std::size_t expected) const;
  std::pair<std::size_t, std::uint64_t> blobCounters(const std::string& repo) const;
  Status dropNamespace(const std::string& ns);
  std::vector<std::string> ctrArgs(const std::string& ns) const;
  std::optional<double> contdLoggedMs(const std::string& ns) const;
  void saveLogs() const;

  // The report's sections, in order.
  std::vector<Medians> medians() const;
  void printSetting() const;
  void printTimes(const std::vector<Medians>& medians) const;
  void printMemory(const std::vector<Medians>& medians) const;
  void printCpu(const std::vector<Medians>& medians) const;
  void printTargets(const std::vector<Medians>& medians) const;
  void printTrace() const;

  Options options_;
  std::optional<support::TempDir> work_;
  std::unique_ptr<support::PrivateContainerd> containerd_;
  std::unique_ptr<support::LocalRegistry> registry_;
  std::unique_ptr<support::ContdDaemon> contd_;
  std::vector<PushedImage> images_;
  std::set<std::string> namespaces_;  // made and not yet removed
  bool cleaned_ = false;

  // Facts for the report.
  std::string versions_;
  std::string load_before_;
  std::string load_after_;
  bool hwm_reset_works_ = true;
  double started_mib_ = 0;  // contd's VmRSS once its socket accepted, before any pull
  std::string started_state_;  // its RssAnon, RssFile and threads then
  std::string end_state_;      // the same after the last measured round
  int contd_pulls_ = 0;        // through contd so far, warm-up and cached ones included
  std::vector<RoundResult> results_;
  std::optional<Trace> trace_;
  std::string contd_log_;  // read once contd has stopped
};

}  // namespace contd::bench::pull
