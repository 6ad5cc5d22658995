// bench_pull: pulling an image of about 100 MB from a registry on loopback, contd against
// containerd's own ctr in the same run, and how much memory contd needs for it.
//
// A benchmark, not a test: it prints figures and whether contd's peak RSS stays under the
// issue's target (64 MiB, flat with layer size), and fails only when it cannot measure.
// What each number includes: docs/benchmarks.md.
//
// Setup: one private containerd, one registry on 127.0.0.1 (Debian's docker-registry) and
// contd on that containerd, all started here. Two images are built in memory and pushed
// once with skopeo: bench/big:1 (5 layers of 20 MiB) and bench/small:1 (5 layers of 2 MiB).
// Every layer is a gzip'ed tar holding one file of pseudo-random bytes (std::mt19937_64 with
// a fixed seed: the same digests in every run), so compression does not shrink it.
//
// Per round and image, every pull into a fresh containerd namespace, contd and ctr in an
// order that alternates by round:
//   contd   `contctl --socket S pull NS REF --plain-http`: wall time from spawn to exit;
//           contd's VmRSS before, and its VmHWM after a reset (clear_refs 5) just before the
//           pull: the peak RSS of the daemon during the pull
//   cached  the same pull again into the same namespace: wall time, and no blob fetched
//   ctr     `ctr --address S -n NS2 images pull --plain-http REF`, which also fetches and
//           unpacks (overlayfs), with contd's number of parallel layer downloads
// After each pull the image is removed with `ctr images rm --sync` (a synchronous garbage
// collection: the blobs and snapshots are gone before the next pull) and the namespace
// deleted, so that no pull finds anything of another. The bytes every pull fetched are
// counted in the registry's access log. After the rounds, one traced pull through contd's
// gRPC API timestamps every progress message and samples contd's RSS, phase by phase.
// Needs root, containerd, ctr, docker-registry and skopeo.
//
// Exit status: 0 measured (target met or not), 1 could not measure, 2 usage error.

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/logging.h"
#include "modules/common/result.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/stats.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/registry.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

#ifndef CONTD_BENCH_BUILD_TYPE
#define CONTD_BENCH_BUILD_TYPE ""
#endif

namespace contd::bench {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

constexpr double kPeakRssTargetMib = 64;
constexpr std::uint64_t kMiB = 1024 * 1024;
// contd's layer downloads per pull (GrpcImageStore::Options::parallel_fetches).
constexpr int kContdParallelFetches = 3;
constexpr auto kPullTimeout = 600s;
constexpr auto kCommandTimeout = 120s;
// How long a pull that should fetch nothing waits for a late access-log line.
constexpr auto kLateLogLine = 300ms;
constexpr auto kRssSampleInterval = 5ms;

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / kMiB; }

std::string format1(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", value);
  return buf;
}

// ---- Options

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

std::string usage() {
  return "usage: bench_pull [OPTIONS]\n"
         "Pull of a 5-layer image of about 100 MB from a registry on loopback: wall time of\n"
         "contd (contctl pull) and of ctr images pull, bytes fetched, and contd's peak RSS.\n"
         "Needs root.\n"
         "\n"
         "  --rounds N            measured rounds (default 3); per round and image one pull\n"
         "                        by contd (plus a cached one) and one by ctr\n"
         "  --warmup N            unmeasured rounds of the small image first (default 1)\n"
         "  --layers N            layers per image (default 5)\n"
         "  --layer-mib N         layer size of the big image in MiB (default 20)\n"
         "  --small-layer-mib N   layer size of the small image in MiB (default 2)\n"
         "  --ctr-downloads N     ctr --max-concurrent-downloads (default 3, contd's number\n"
         "                        of parallel layer fetches; 0: ctr's default, no limit)\n"
         "  --trace on|off        the traced pull through the gRPC API at the end (default on)\n"
         "  --seed N              seed of the layers' bytes (default 1)\n"
         "  --contd PATH          contd binary (default: next to this program)\n"
         "  --contctl PATH        contctl binary (default: next to this program)\n"
         "  --ctr PATH            ctr binary (default: ctr on PATH)\n"
         "  --save-logs DIR       copy contd's, containerd's and the registry's logs to DIR\n"
         "  --help                this text\n";
}

Result<Options> parseOptions(int argc, char** argv) {
  Options options;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      return invalidArgument(flag.starts_with("--") ? std::string(flag) + ": needs a value"
                                                    : "unexpected argument '" +
                                                          std::string(flag) + "'");
    }
    const std::string_view value = args[++i];
    auto setInt = [&](int& field, int min, int max) -> Status {
      auto number = parseNumber<int>(flag, value);
      if (!number) {
        return number.error();
      }
      if (*number < min || *number > max) {
        return invalidArgument(std::string(flag) + ": must be from " + std::to_string(min) +
                               " to " + std::to_string(max));
      }
      field = *number;
      return okStatus();
    };
    if (flag == "--rounds") {
      CONTD_RETURN_IF_ERROR(setInt(options.rounds, 1, 1000));
    } else if (flag == "--warmup") {
      CONTD_RETURN_IF_ERROR(setInt(options.warmup, 0, 100));
    } else if (flag == "--layers") {
      CONTD_RETURN_IF_ERROR(setInt(options.layers, 1, 100));
    } else if (flag == "--layer-mib") {
      CONTD_RETURN_IF_ERROR(setInt(options.big_layer_mib, 1, 1024));
    } else if (flag == "--small-layer-mib") {
      CONTD_RETURN_IF_ERROR(setInt(options.small_layer_mib, 1, 1024));
    } else if (flag == "--ctr-downloads") {
      CONTD_RETURN_IF_ERROR(setInt(options.ctr_downloads, 0, 100));
    } else if (flag == "--trace") {
      if (value != "on" && value != "off") {
        return invalidArgument("--trace '" + std::string(value) + "': expected on or off");
      }
      options.trace = value == "on";
    } else if (flag == "--seed") {
      auto seed = parseNumber<std::uint64_t>(flag, value);
      if (!seed) {
        return seed.error();
      }
      options.seed = *seed;
    } else if (flag == "--contd") {
      options.contd = value;
    } else if (flag == "--contctl") {
      options.contctl = value;
    } else if (flag == "--ctr") {
      options.ctr = value;
    } else if (flag == "--save-logs") {
      options.save_logs = value;
    } else {
      return invalidArgument("unknown option '" + std::string(flag) + "'");
    }
  }
  return options;
}

// ---- Small helpers

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// The last `max` bytes of `text`, for error messages.
std::string tail(const std::string& text, std::size_t max = 1500) {
  return trimmed(text.size() > max ? "..." + text.substr(text.size() - max) : text);
}

// The OCI name of this machine's architecture, for the images' config.
std::string ociArchitecture() {
  utsname names{};
  ::uname(&names);
  const std::string machine = names.machine;
  if (machine == "x86_64") {
    return "amd64";
  }
  if (machine == "aarch64") {
    return "arm64";
  }
  return machine;
}

// ---- contd's process: memory and CPU from /proc

// A "Key:   1234 kB" field of /proc/<pid>/status in KiB, or nullopt.
std::optional<std::uint64_t> statusKib(pid_t pid, std::string_view key) {
  std::istringstream lines(readFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':') {
      std::istringstream fields(line.substr(key.size() + 1));
      std::uint64_t kib = 0;
      if (fields >> kib) {
        return kib;
      }
    }
  }
  return std::nullopt;
}

double statusMib(pid_t pid, std::string_view key) {
  return static_cast<double>(statusKib(pid, key).value_or(0)) / 1024;
}

// Sets the process's VmHWM (peak RSS) back to its current RSS (Linux 4.0 and later).
Status resetPeakRss(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/clear_refs";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return sysError("open " + path, errno);
  }
  const bool written = ::write(fd, "5", 1) == 1;
  const int err = errno;
  ::close(fd);
  return written ? okStatus() : sysError("write 5 to " + path, err);
}

// User plus system CPU seconds of a running process, from /proc/<pid>/stat.
double cpuSeconds(pid_t pid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  const auto comm_end = stat.rfind(')');
  if (comm_end == std::string::npos) {
    return 0;
  }
  // After "pid (comm) " come state (field 3) ... utime (14) and stime (15).
  std::istringstream fields(stat.substr(comm_end + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index >= 14) {
      ticks += std::strtod(field.c_str(), nullptr);
    }
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double rusageSeconds(const rusage& usage) {
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A Go time.Duration as printed ("412.5ms", "1.2045s", "1m2.5s", "850µs") in ms, or nullopt.
std::optional<double> parseGoDuration(std::string_view text) {
  static const std::vector<std::pair<std::string_view, double>> kUnits = {
      {"ns", 1e-6}, {"us", 1e-3}, {"\u00b5s", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 6e4},
      {"h", 3.6e6}};
  double ms = 0;
  bool any = false;
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) ||
                                     text[digits] == '.')) {
      ++digits;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    const double value = std::strtod(std::string(text.substr(0, digits)).c_str(), nullptr);
    text.remove_prefix(digits);
    // The longest unit that matches ("ms" before "m").
    std::optional<std::pair<std::string_view, double>> unit;
    for (const auto& candidate : kUnits) {
      if (text.starts_with(candidate.first) &&
          (!unit || candidate.first.size() > unit->first.size())) {
        unit = candidate;
      }
    }
    if (!unit) {
      return std::nullopt;
    }
    ms += value * unit->second;
    text.remove_prefix(unit->first.size());
    any = true;
  }
  return any ? std::optional<double>(ms) : std::nullopt;
}

// ctr images pull's unpack time: after fetching everything it unpacks, then prints
// "done: <duration>" (the unpack alone).
std::optional<double> ctrUnpackMs(const std::string& out) {
  const auto at = out.rfind("done: ");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  const auto end = out.find_first_of(" \t\r\n", at + 6);
  return parseGoDuration(std::string_view(out).substr(
      at + 6, end == std::string::npos ? std::string::npos : end - at - 6));
}

// ---- Timed commands

struct Timed {
  double ms = 0;      // from just before the fork until the child was reaped
  double cpu_s = 0;   // the child's user + system CPU
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Waits for `pid` (a pidfd and poll, so that a timeout or Ctrl-C can kill it, by its pid)
// and reaps it with wait4 for its resource usage.
Result<rusage> awaitChild(pid_t pid, std::chrono::milliseconds timeout, int* exit_code) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const auto deadline = Clock::now() + timeout;
  bool killed = false;
  while (pidfd >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd entry{pidfd, POLLIN, 0};
    // Once killed, wait in small steps for the exit.
    const int wait_ms = killed ? 100 : static_cast<int>(std::max<long long>(left, 0));
    const int ready = ::poll(&entry, 1, wait_ms);
    if (ready > 0) {
      break;
    }
    if ((ready == 0 || interrupted()) && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
  }
  if (pidfd >= 0) {
    ::close(pidfd);
  }
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      return sysError("wait4 pid " + std::to_string(pid), errno);
    }
  }
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (killed) {
    return interrupted() ? makeError(Code::kUnknown, "interrupted")
                              : makeError(Code::kDeadlineExceeded, "timed out");
  }
  return usage;
}

// Runs argv with stdout and stderr in files of `dir` (no pipe to drain while timing).
Result<Timed> runTimed(const std::vector<std::string>& argv, const fs::path& dir,
                       std::chrono::milliseconds timeout) {
  const fs::path out_path = dir / "cmd.out";
  const fs::path err_path = dir / "cmd.err";
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0 || err_fd < 0) {
    const int err = errno;
    ::close(out_fd);
    ::close(err_fd);
    return sysError("open output files in " + dir.string(), err);
  }
  Timed timed;
  const auto start = Clock::now();
  auto pid = support::spawnProcess({argv, out_fd, err_fd, 0});
  ::close(out_fd);
  ::close(err_fd);
  if (!pid) {
    return pid.error();
  }
  auto usage = awaitChild(*pid, timeout, &timed.exit_code);
  timed.ms = msSince(start);
  timed.out = readFile(out_path);
  timed.err = readFile(err_path);
  if (!usage) {
    return usage.error().wrap("'" + support::describeCommand(argv) + "'");
  }
  timed.cpu_s = rusageSeconds(*usage);
  if (timed.exit_code != 0) {
    return internalError("'" + support::describeCommand(argv) + "' exited with " +
                         std::to_string(timed.exit_code) + ": " + tail(timed.err + timed.out));
  }
  return timed;
}

// ---- The test images

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

std::string randomBytes(std::uint64_t size, std::mt19937_64& rng) {
  std::string bytes(size, '\0');
  for (std::uint64_t i = 0; i < size; i += 8) {
    const std::uint64_t word = rng();
    std::memcpy(bytes.data() + i, &word, std::min<std::uint64_t>(8, size - i));
  }
  return bytes;
}

// An OCI image layout tarball of `spec`: every layer tar+gzip with one file of random
// bytes, a config whose rootfs.diff_ids are the sha256 of the uncompressed tars.
// `blob_bytes` gets the size of config and layers.
std::string buildArchive(const ImageSpec& spec, std::uint64_t seed, const std::string& ref_name,
                         std::uint64_t* blob_bytes) {
  std::mt19937_64 rng(seed);
  std::vector<support::TarFile> files{{"oci-layout", '0', R"({"imageLayoutVersion":"1.0.0"})"},
                                      {"blobs/", '5', ""},
                                      {"blobs/sha256/", '5', ""}};
  *blob_bytes = 0;
  auto addBlob = [&](std::string data) {
    const std::string digest = support::sha256Of(data);
    *blob_bytes += data.size();
    files.push_back({"blobs/sha256/" + digest.substr(7), '0', std::move(data)});
    return digest;
  };
  nlohmann::json layers = nlohmann::json::array();
  nlohmann::json diff_ids = nlohmann::json::array();
  for (int i = 1; i <= spec.layers; ++i) {
    const std::string tar =
        support::makeTar({{"data/", '5', "", 0755},
                          {"data/layer-" + std::to_string(i) + ".bin", '0',
                           randomBytes(spec.layer_bytes, rng), 0644}});
    diff_ids.push_back(support::sha256Of(tar));
    std::string compressed = support::gzip(tar);
    const std::size_t size = compressed.size();
    layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                      {"digest", addBlob(std::move(compressed))},
                      {"size", size}});
  }
  const std::string config =
      nlohmann::json{{"architecture", ociArchitecture()},
                     {"os", "linux"},
                     {"config", {{"Env", {"PATH=/usr/bin:/bin"}}, {"Cmd", {"/bin/sh"}}}},
                     {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
          .dump();
  const std::string manifest =
      nlohmann::json{{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", addBlob(config)},
                       {"size", config.size()}}},
                     {"layers", layers}}
          .dump();
  const std::uint64_t without_manifest = *blob_bytes;
  const std::string manifest_digest = addBlob(manifest);
  *blob_bytes = without_manifest;  // the manifest comes from /manifests/, not /blobs/
  const std::string index =
      nlohmann::json{
          {"schemaVersion", 2},
          {"manifests",
           {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
             {"digest", manifest_digest},
             {"size", manifest.size()},
             {"annotations", {{"org.opencontainers.image.ref.name", ref_name}}}}}}}
          .dump();
  files.push_back({"index.json", '0', index});
  return support::makeTar(files);
}

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

struct RssSample {
  double ms = 0;
  double mib = 0;
};

struct Trace {
  double ms = 0;  // until the stream ended
  double peak_mib = 0;
  double idle_mib = 0;
  std::vector<TraceStep> steps;
  std::vector<RssSample> rss;
};

// Samples a process's VmRSS every kRssSampleInterval on a thread of its own until stopped.
class RssSampler {
public:
  RssSampler(pid_t pid, Clock::time_point start)
      : thread_([this, pid, start] {
          while (!stop_.load()) {
            samples_.push_back({msSince(start), statusMib(pid, "VmRSS")});
            std::this_thread::sleep_for(kRssSampleInterval);
          }
        }) {}
  ~RssSampler() { stop(); }
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  std::vector<RssSample> stop() {
    stop_.store(true);
    if (thread_.joinable()) {
      thread_.join();
    }
    return samples_;
  }

private:
  std::atomic<bool> stop_{false};
  std::vector<RssSample> samples_;  // written by the thread until it is joined
  std::thread thread_;
};

// ---- The benchmark

class PullBench {
public:
  explicit PullBench(Options options) : options_(std::move(options)) {}
  ~PullBench() {
    if (Status s = cleanUp(); !s) {
      std::fprintf(stderr, "bench_pull: cleanup: %s\n", s.error().message.c_str());
    }
  }
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

Status PullBench::setUp() {
  load_before_ = loadAverage();
  auto work = support::TempDir::make("contd-bench-pull");
  if (!work) {
    return work.error();
  }
  work_.emplace(std::move(*work));

  auto containerd = support::PrivateContainerd::start();
  if (!containerd) {
    return containerd.error();
  }
  containerd_ = std::move(*containerd);

  auto registry = support::LocalRegistry::start();
  if (!registry) {
    return registry.error();
  }
  registry_ = std::move(*registry);

  CONTD_RETURN_IF_ERROR(pushImage({"big", "bench/big", options_.layers,
                                   static_cast<std::uint64_t>(options_.big_layer_mib) * kMiB}));
  CONTD_RETURN_IF_ERROR(pushImage({"small", "bench/small", options_.layers,
                                   static_cast<std::uint64_t>(options_.small_layer_mib) * kMiB}));

  support::ContdDaemon::Options contd;
  contd.binary = options_.contd;
  contd.containerd_socket = containerd_->socketPath();
  contd.dir = work_->path() / "contd";
  contd.extra_args = {"--log-level", "info"};
  auto daemon = support::ContdDaemon::start(contd);
  if (!daemon) {
    return daemon.error();
  }
  contd_ = std::move(*daemon);
  started_mib_ = statusMib(contd_->pid(), "VmRSS");
  started_state_ = "RssAnon " + format1(statusMib(contd_->pid(), "RssAnon")) + ", RssFile " +
                   format1(statusMib(contd_->pid(), "RssFile")) + ", " +
                   std::to_string(statusKib(contd_->pid(), "Threads").value_or(0)) + " threads";

  auto version = [](const std::vector<std::string>& argv, std::size_t word) {
    auto result = support::runCommand(argv);
    if (!result || !result->ok()) {
      return std::string("?");
    }
    std::istringstream words(firstLine(result->out));
    std::string text;
    for (std::size_t i = 0; i <= word && words >> text; ++i) {
    }
    return text;
  };
  versions_ = "containerd " + version({"containerd", "--version"}, 2) + ", ctr " +
              version({options_.ctr, "--version"}, 2) + ", docker-registry " +
              version({"docker-registry", "--version"}, 2) + ", " +
              firstLine(support::runChecked({options_.contd, "--version"}).value_or("contd ?")) +
              ", " + std::to_string(std::thread::hardware_concurrency()) + " CPUs";
  if (Status reset = resetPeakRss(contd_->pid()); !reset) {
    hwm_reset_works_ = false;
    std::fprintf(stderr,
                 "bench_pull: cannot reset contd's peak RSS (%s): peak RSS figures are the "
                 "daemon's lifetime peak\n",
                 reset.error().message.c_str());
  }
  return okStatus();
}

Status PullBench::pushImage(const ImageSpec& spec) {
  PushedImage image;
  image.spec = spec;
  image.ref = registry_->host() + "/" + spec.repo + ":1";
  image.blob_count = static_cast<std::size_t>(spec.layers) + 1;
  std::fprintf(stderr, "bench_pull: building and pushing %s:1 (%d layers of %s MiB)\n",
               spec.repo.c_str(), spec.layers, format1(mib(spec.layer_bytes)).c_str());
  const fs::path archive = work_->path() / (spec.label + ".tar");
  {
    const std::string data = buildArchive(spec, options_.seed, spec.repo + ":1", &image.blob_bytes);
    std::ofstream out(archive, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      return internalError("write '" + archive.string() + "' failed");
    }
  }
  const Status pushed = registry_->push(archive.string(), "oci-archive", spec.repo + ":1");
  std::error_code ec;
  fs::remove(archive, ec);
  CONTD_RETURN_IF_ERROR(pushed);
  images_.push_back(std::move(image));
  return okStatus();
}

std::vector<std::string> PullBench::ctrArgs(const std::string& ns) const {
  return {options_.ctr, "--address", containerd_->socketPath(), "-n", ns};
}

std::pair<std::size_t, std::uint64_t> PullBench::blobCounters(const std::string& repo) const {
  return {registry_->blobGets(repo).size(), registry_->blobBytesSent(repo)};
}

std::pair<std::size_t, std::uint64_t> PullBench::fetchedSince(
    const std::string& repo, std::pair<std::size_t, std::uint64_t> before,
    std::size_t expected) const {
  if (expected == 0) {
    std::this_thread::sleep_for(kLateLogLine);
  } else {
    registry_->awaitBlobGets(repo, before.first + expected);
  }
  const auto now = blobCounters(repo);
  return {now.first - before.first, now.second - before.second};
}

// Removes the namespace's images with a synchronous garbage collection (blobs, snapshots
// and their directories go before it returns), then the namespace, which containerd
// refuses while anything is left in it (a lease, a blob, a snapshot).
Status PullBench::dropNamespace(const std::string& ns) {
  auto known = support::runChecked(
      {options_.ctr, "--address", containerd_->socketPath(), "namespaces", "ls", "-q"},
      kCommandTimeout);
  if (!known) {
    return known.error();
  }
  if (("\n" + *known).find("\n" + ns + "\n") == std::string::npos) {
    namespaces_.erase(ns);  // never created (a pull that failed early)
    return okStatus();
  }
  auto argv = ctrArgs(ns);
  argv.insert(argv.end(), {"images", "ls", "-q"});
  auto listed = support::runChecked(argv, kCommandTimeout);
  if (!listed) {
    return listed.error();
  }
  std::istringstream names(*listed);
  std::string name;
  while (std::getline(names, name)) {
    if (name.empty()) {
      continue;
    }
    argv = ctrArgs(ns);
    argv.insert(argv.end(), {"images", "rm", "--sync", name});
    CONTD_RETURN_IF_ERROR(support::runChecked(argv, kCommandTimeout));
  }
  argv = {options_.ctr, "--address", containerd_->socketPath(), "namespaces", "rm", ns};
  CONTD_RETURN_IF_ERROR(support::runChecked(argv, kCommandTimeout));
  namespaces_.erase(ns);
  return okStatus();
}

Result<ContdPull> PullBench::pullWithContd(const PushedImage& image, const std::string& ns) {
  ContdPull pull;
  pull.ns = ns;
  const pid_t contd = contd_->pid();
  const pid_t containerd = containerd_->pid();
  const auto before = blobCounters(image.spec.repo);
  pull.idle_mib = statusMib(contd, "VmRSS");
  if (hwm_reset_works_) {
    CONTD_RETURN_IF_ERROR(resetPeakRss(contd));
  }
  const double contd_cpu = cpuSeconds(contd);
  const double containerd_cpu = cpuSeconds(containerd);
  const double registry_cpu = cpuSeconds(registry_->pid());
  auto run = runTimed({options_.contctl, "--socket", contd_->socketPath(), "pull", ns,
                       image.ref, "--plain-http"},
                      work_->path(), kPullTimeout);
  ++contd_pulls_;
  if (!run) {
    return run.error();
  }
  pull.peak_mib = statusMib(contd, "VmHWM");
  pull.after_mib = statusMib(contd, "VmRSS");
  pull.contd_cpu_s = cpuSeconds(contd) - contd_cpu;
  pull.containerd_cpu_s = cpuSeconds(containerd) - containerd_cpu;
  pull.registry_cpu_s = cpuSeconds(registry_->pid()) - registry_cpu;
  pull.contctl_cpu_s = run->cpu_s;
  pull.ms = run->ms;
  // The last line names the image: "<ref>  sha256:<hex>  <size>".
  if (run->out.find(image.ref + "  sha256:") == std::string::npos) {
    return internalError("contctl pull printed no image line: " + tail(run->out));
  }
  std::tie(pull.gets, pull.fetched) = fetchedSince(image.spec.repo, before, image.blob_count);
  return pull;
}

Result<CachedPull> PullBench::pullCached(const PushedImage& image, const std::string& ns) {
  const auto before = blobCounters(image.spec.repo);
  auto run = runTimed({options_.contctl, "--socket", contd_->socketPath(), "pull", ns,
                       image.ref, "--plain-http"},
                      work_->path(), kPullTimeout);
  ++contd_pulls_;
  if (!run) {
    return run.error();
  }
  CachedPull pull;
  pull.ms = run->ms;
  std::tie(pull.gets, pull.fetched) = fetchedSince(image.spec.repo, before, 0);
  return pull;
}

Result<CtrPull> PullBench::pullWithCtr(const PushedImage& image, const std::string& ns) {
  CtrPull pull;
  const auto before = blobCounters(image.spec.repo);
  const double containerd_cpu = cpuSeconds(containerd_->pid());
  const double registry_cpu = cpuSeconds(registry_->pid());
  auto argv = ctrArgs(ns);
  argv.insert(argv.end(), {"images", "pull", "--plain-http"});
  if (options_.ctr_downloads > 0) {
    argv.insert(argv.end(),
                {"--max-concurrent-downloads", std::to_string(options_.ctr_downloads)});
  }
  argv.push_back(image.ref);
  auto run = runTimed(argv, work_->path(), kPullTimeout);
  if (!run) {
    return run.error();
  }
  pull.containerd_cpu_s = cpuSeconds(containerd_->pid()) - containerd_cpu;
  pull.registry_cpu_s = cpuSeconds(registry_->pid()) - registry_cpu;
  pull.ctr_cpu_s = run->cpu_s;
  pull.ms = run->ms;
  pull.unpack_ms = ctrUnpackMs(run->out);
  std::tie(pull.gets, pull.fetched) = fetchedSince(image.spec.repo, before, image.blob_count);
  return pull;
}

Status PullBench::round(int index, bool measured) {
  const bool contd_first = index % 2 == 0;
  for (std::size_t i = 0; i < images_.size(); ++i) {
    if (!measured && images_[i].spec.label != "small") {
      continue;  // warm-up: the small image only
    }
    RoundResult result;
    result.image = i;
    result.round = index + 1;
    result.contd_first = contd_first;
    for (int turn = 0; turn < 2; ++turn) {
      CONTD_RETURN_IF_ERROR(checkInterrupted());
      const bool contd_turn = (turn == 0) == contd_first;
      const std::string ns = support::uniqueName(contd_turn ? "pullc" : "pullr");
      namespaces_.insert(ns);
      if (contd_turn) {
        auto pull = pullWithContd(images_[i], ns);
        if (!pull) {
          return pull.error().wrap("contd pull of " + images_[i].ref);
        }
        result.contd = std::move(*pull);
        auto cached = pullCached(images_[i], ns);
        if (!cached) {
          return cached.error().wrap("cached contd pull of " + images_[i].ref);
        }
        result.cached = *cached;
      } else {
        auto pull = pullWithCtr(images_[i], ns);
        if (!pull) {
          return pull.error().wrap("ctr pull of " + images_[i].ref);
        }
        result.ctr = *pull;
      }
      CONTD_RETURN_IF_ERROR(dropNamespace(ns));
    }
    if (measured) {
      results_.push_back(std::move(result));
    }
  }
  return okStatus();
}

Status PullBench::measure() {
  for (int i = 0; i < options_.warmup; ++i) {
    std::fprintf(stderr, "bench_pull: warm-up round %d/%d\n", i + 1, options_.warmup);
    CONTD_RETURN_IF_ERROR(round(i, /*measured=*/false));
  }
  for (int i = 0; i < options_.rounds; ++i) {
    std::fprintf(stderr, "bench_pull: round %d/%d\n", i + 1, options_.rounds);
    CONTD_RETURN_IF_ERROR(round(i, /*measured=*/true));
  }
  load_after_ = loadAverage();
  const pid_t contd = contd_->pid();
  end_state_ = "contd after " + std::to_string(contd_pulls_) + " pulls: VmRSS " +
               format1(statusMib(contd, "VmRSS")) + " MiB (RssAnon " +
               format1(statusMib(contd, "RssAnon")) + ", RssFile " +
               format1(statusMib(contd, "RssFile")) + "), " +
               std::to_string(statusKib(contd, "Threads").value_or(0)) + " threads";
  return okStatus();
}

// One more pull of the big image, through contd's gRPC API, with every progress message
// timestamped and contd's RSS sampled: where in the pull the time and the memory go.
Status PullBench::trace() {
  if (!options_.trace) {
    return okStatus();
  }
  CONTD_RETURN_IF_ERROR(checkInterrupted());
  std::fprintf(stderr, "bench_pull: traced pull\n");
  const PushedImage& image = images_.front();
  const std::string ns = support::uniqueName("pullt");
  namespaces_.insert(ns);
  auto channel =
      grpc::CreateChannel("unix:" + contd_->socketPath(), grpc::InsecureChannelCredentials());
  auto stub = v1::Containers::NewStub(channel);
  v1::PullImageRequest request;
  request.set_namespace_(ns);
  request.set_ref(image.ref);
  request.set_plain_http(true);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kPullTimeout);

  Trace traced;
  const pid_t contd = contd_->pid();
  traced.idle_mib = statusMib(contd, "VmRSS");
  if (hwm_reset_works_) {
    CONTD_RETURN_IF_ERROR(resetPeakRss(contd));
  }
  const auto start = Clock::now();
  RssSampler sampler(contd, start);
  auto reader = stub->PullImage(&context, request);
  v1::PullImageProgress step;
  while (reader->Read(&step)) {
    if (step.state() != v1::PullImageProgress::FETCHING) {
      traced.steps.push_back({msSince(start), step.state(), step.digest()});
    }
  }
  const grpc::Status status = reader->Finish();
  traced.ms = msSince(start);
  traced.rss = sampler.stop();
  traced.peak_mib = statusMib(contd, "VmHWM");
  if (!status.ok()) {
    return internalError("traced pull: gRPC code " +
                         std::to_string(static_cast<int>(status.error_code())) + ": " +
                         status.error_message());
  }
  trace_ = std::move(traced);
  return dropNamespace(ns);
}

// contd's own time for the pull into `ns`: its log line "op=pull ns=<ns> ... ms=<n>".
std::optional<double> PullBench::contdLoggedMs(const std::string& ns) const {
  std::istringstream lines(contd_log_);
  std::string line;
  const std::string key = "op=pull ns=" + ns + " ";
  while (std::getline(lines, line)) {
    const auto at = line.find(key);
    const auto ms = line.rfind(" ms=");
    if (at != std::string::npos && ms != std::string::npos) {
      return std::strtod(line.c_str() + ms + 4, nullptr);
    }
  }
  return std::nullopt;
}

// ---- Report

void printRule() { std::printf("%s\n", std::string(100, '-').c_str()); }

std::string row(const std::vector<std::pair<std::string, std::size_t>>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    line += i < 2 ? padRight(cells[i].first, cells[i].second)
                  : padLeft(cells[i].first, cells[i].second);
  }
  return line;
}

std::string count(std::uint64_t n) { return std::to_string(n); }

void PullBench::report() const {
  std::printf("\ncontd pull benchmark\n");
  printRule();
  std::printf("%s; load average %s before, %s after\n", versions_.c_str(), load_before_.c_str(),
              load_after_.c_str());
  const std::string build_type = CONTD_BENCH_BUILD_TYPE;
  std::printf("build type of this benchmark (and of contd/contctl when they come from the same "
              "build): %s\n",
              build_type.empty() ? "(none)" : build_type.c_str());
  if (build_type != "Release" && build_type != "RelWithDebInfo") {
    std::printf("WARNING: not an optimized build; these are not the figures of a release\n");
  }
  for (const PushedImage& image : images_) {
    std::printf("%-6s %s: %d layers x %s MiB of random bytes, tar+gzip; blobs fetched by a "
                "full pull: %zu, %s bytes (%s MiB)\n",
                image.spec.label.c_str(), image.ref.c_str(), image.spec.layers,
                format1(mib(image.spec.layer_bytes)).c_str(), image.blob_count,
                count(image.blob_bytes).c_str(), format1(mib(image.blob_bytes)).c_str());
  }
  std::printf(
      "%d round(s) after %d warm-up round(s) of the small image; every pull into a fresh "
      "namespace,\nimage removed with a synchronous GC after each; contd first in odd rounds, "
      "ctr first in even ones.\ncontd: contctl pull (%d parallel layer fetches); ctr: images "
      "pull --plain-http%s\n",
      options_.rounds, options_.warmup, kContdParallelFetches,
      options_.ctr_downloads > 0
          ? (" --max-concurrent-downloads " + std::to_string(options_.ctr_downloads)).c_str()
          : " (no download limit)");
  printRule();

  std::printf("wall time (ms), spawn to exit; \"contd log\": contd's own op=pull time; "
              "cached: contd's second pull;\n\"ctr unpack\": the unpack phase of ctr's pull "
              "(its \"done:\" line; it fetches everything first)\n");
  const std::vector<std::size_t> w = {8, 7, 7, 10, 10, 8, 11, 10, 12};
  std::printf("%s\n", row({{"image", w[0]}, {"round", w[1]}, {"first", w[2]}, {"contd", w[3]},
                           {"ctr", w[4]}, {"ratio", w[5]}, {"contd log", w[6]},
                           {"cached", w[7]}, {"ctr unpack", w[8]}})
                          .c_str());
  for (const RoundResult& r : results_) {
    const auto logged = contdLoggedMs(r.contd.ns);
    std::printf("%s\n",
                row({{images_[r.image].spec.label, w[0]}, {std::to_string(r.round), w[1]},
                     {r.contd_first ? "contd" : "ctr", w[2]}, {formatMs(r.contd.ms), w[3]},
                     {formatMs(r.ctr.ms), w[4]}, {formatRatio(r.contd.ms, r.ctr.ms), w[5]},
                     {formatMs(logged.value_or(0), logged.has_value()), w[6]},
                     {formatMs(r.cached.ms), w[7]},
                     {formatMs(r.ctr.unpack_ms.value_or(0), r.ctr.unpack_ms.has_value()), w[8]}})
                    .c_str());
  }
  // Medians per image.
  struct Medians {
    Summary contd, ctr, logged, cached, ctr_unpack, idle, peak, after, growth;
    Summary contd_cpu, contctl_cpu, containerd_contd, registry_contd, ctr_cpu, containerd_ctr,
        registry_ctr;
  };
  std::vector<Medians> medians(images_.size());
  for (std::size_t i = 0; i < images_.size(); ++i) {
    std::vector<double> contd, ctr, logged, cached, ctr_unpack, idle, peak, after, growth,
        contd_cpu, contctl_cpu, containerd_contd, registry_contd, ctr_cpu, containerd_ctr,
        registry_ctr;
    for (const RoundResult& r : results_) {
      if (r.image != i) {
        continue;
      }
      contd.push_back(r.contd.ms);
      ctr.push_back(r.ctr.ms);
      if (auto ms = contdLoggedMs(r.contd.ns)) {
        logged.push_back(*ms);
      }
      cached.push_back(r.cached.ms);
      if (r.ctr.unpack_ms) {
        ctr_unpack.push_back(*r.ctr.unpack_ms);
      }
      idle.push_back(r.contd.idle_mib);
      peak.push_back(r.contd.peak_mib);
      after.push_back(r.contd.after_mib);
      growth.push_back(r.contd.peak_mib - r.contd.idle_mib);
      contd_cpu.push_back(r.contd.contd_cpu_s);
      contctl_cpu.push_back(r.contd.contctl_cpu_s);
      containerd_contd.push_back(r.contd.containerd_cpu_s);
      registry_contd.push_back(r.contd.registry_cpu_s);
      ctr_cpu.push_back(r.ctr.ctr_cpu_s);
      containerd_ctr.push_back(r.ctr.containerd_cpu_s);
      registry_ctr.push_back(r.ctr.registry_cpu_s);
    }
    medians[i] = {summarize(contd),     summarize(ctr),         summarize(logged),
                  summarize(cached),    summarize(ctr_unpack),  summarize(idle),
                  summarize(peak),      summarize(after),       summarize(growth),
                  summarize(contd_cpu), summarize(contctl_cpu), summarize(containerd_contd),
                  summarize(registry_contd), summarize(ctr_cpu), summarize(containerd_ctr),
                  summarize(registry_ctr)};
    const Medians& m = medians[i];
    std::printf("%s\n", row({{images_[i].spec.label, w[0]}, {"median", w[1]}, {"", w[2]},
                             {formatMs(m.contd.median), w[3]}, {formatMs(m.ctr.median), w[4]},
                             {formatRatio(m.contd.median, m.ctr.median), w[5]},
                             {formatMs(m.logged.median, m.logged.count > 0), w[6]},
                             {formatMs(m.cached.median), w[7]},
                             {formatMs(m.ctr_unpack.median, m.ctr_unpack.count > 0), w[8]}})
                            .c_str());
  }
  printRule();

  std::printf("contd's RSS (MiB): idle = VmRSS before the pull, peak = VmHWM reset just "
              "before it%s,\nafter = VmRSS after it; blob bytes fetched, from the registry's "
              "access log (GETs in brackets)\n",
              hwm_reset_works_ ? "" : " (NOT reset: lifetime peak)");
  const std::vector<std::size_t> m_w = {8, 7, 8, 8, 8, 8, 18, 18, 10};
  std::printf("%s\n", row({{"image", m_w[0]}, {"round", m_w[1]}, {"idle", m_w[2]},
                           {"peak", m_w[3]}, {"growth", m_w[4]}, {"after", m_w[5]},
                           {"contd", m_w[6]}, {"ctr", m_w[7]}, {"cached", m_w[8]}})
                          .c_str());
  auto bytes = [](std::uint64_t n, std::size_t gets) {
    return count(n) + " (" + std::to_string(gets) + ")";
  };
  for (const RoundResult& r : results_) {
    std::printf("%s\n",
                row({{images_[r.image].spec.label, m_w[0]}, {std::to_string(r.round), m_w[1]},
                     {format1(r.contd.idle_mib), m_w[2]}, {format1(r.contd.peak_mib), m_w[3]},
                     {format1(r.contd.peak_mib - r.contd.idle_mib), m_w[4]},
                     {format1(r.contd.after_mib), m_w[5]},
                     {bytes(r.contd.fetched, r.contd.gets), m_w[6]},
                     {bytes(r.ctr.fetched, r.ctr.gets), m_w[7]},
                     {bytes(r.cached.fetched, r.cached.gets), m_w[8]}})
                    .c_str());
  }
  for (std::size_t i = 0; i < images_.size(); ++i) {
    const Medians& m = medians[i];
    std::printf("%s\n", row({{images_[i].spec.label, m_w[0]}, {"median", m_w[1]},
                             {format1(m.idle.median), m_w[2]}, {format1(m.peak.median), m_w[3]},
                             {format1(m.growth.median), m_w[4]},
                             {format1(m.after.median), m_w[5]}})
                            .c_str());
  }
  std::printf("contd when it had just started: VmRSS %s MiB (%s)\n%s\n",
              format1(started_mib_).c_str(), started_state_.c_str(), end_state_.c_str());
  printRule();

  std::printf("CPU seconds per pull (medians): the client process, and the daemons and the "
              "registry during the pull\n");
  for (std::size_t i = 0; i < images_.size(); ++i) {
    const Medians& m = medians[i];
    std::printf("%-6s contd: contd %.2f + contctl %.2f + containerd %.2f + registry %.2f\n"
                "%-6s ctr:   ctr %.2f + containerd %.2f + registry %.2f\n",
                images_[i].spec.label.c_str(), m.contd_cpu.median, m.contctl_cpu.median,
                m.containerd_contd.median, m.registry_contd.median, "", m.ctr_cpu.median,
                m.containerd_ctr.median, m.registry_ctr.median);
  }
  printRule();

  // The target: peak RSS under 64 MiB, and flat with layer size.
  double worst_peak = 0;
  bool same_bytes = true;
  for (const RoundResult& r : results_) {
    worst_peak = std::max(worst_peak, r.contd.peak_mib);
    const PushedImage& image = images_[r.image];
    same_bytes = same_bytes && r.contd.fetched == image.blob_bytes &&
                 r.ctr.fetched == image.blob_bytes && r.cached.fetched == 0;
  }
  std::printf("target: contd's peak RSS during a pull < %.0f MiB: highest %s MiB: %s\n",
              kPeakRssTargetMib, format1(worst_peak).c_str(),
              worst_peak < kPeakRssTargetMib ? "met" : "MISSED");
  if (images_.size() == 2) {
    const double big = medians[0].growth.median;
    const double small = medians[1].growth.median;
    std::printf("flat with layer size: median growth over idle %s MiB with %s MiB layers, "
                "%s MiB with %s MiB layers (difference %s MiB)\n",
                format1(big).c_str(), format1(mib(images_[0].spec.layer_bytes)).c_str(),
                format1(small).c_str(), format1(mib(images_[1].spec.layer_bytes)).c_str(),
                format1(big - small).c_str());
  }
  std::printf("bytes: every contd and ctr pull fetched exactly the image's blobs, every cached "
              "pull none: %s\n",
              same_bytes ? "yes" : "NO (see the table)");
  printRule();

  if (!trace_) {
    return;
  }
  const Trace& t = *trace_;
  std::printf("traced pull: %s through contd's gRPC API into a fresh namespace (ms from the "
              "call; RSS sampled every %lld ms)\n",
              images_.front().ref.c_str(),
              static_cast<long long>(kRssSampleInterval.count()));
  auto rssMaxUntil = [&](double from, double to) {
    double max = 0;
    for (const RssSample& s : t.rss) {
      if (s.ms >= from && s.ms <= to) {
        max = std::max(max, s.mib);
      }
    }
    return max;
  };
  double last_fetched = 0;
  double last_unpacked = 0;
  double resolved = 0;
  double done = 0;
  std::map<std::string, std::size_t> layer_of;
  std::map<std::size_t, std::pair<double, double>> layer_times;  // fetched, unpacked
  for (const TraceStep& s : t.steps) {
    using P = v1::PullImageProgress;
    if (s.state == P::RESOLVED && resolved == 0) {
      resolved = s.ms;
    } else if (s.state == P::WAITING || s.state == P::FETCHED || s.state == P::UNPACKED) {
      const std::size_t layer = layer_of.emplace(s.digest, layer_of.size() + 1).first->second;
      if (s.state == P::FETCHED) {
        layer_times[layer].first = s.ms;
        last_fetched = std::max(last_fetched, s.ms);
      } else if (s.state == P::UNPACKED) {
        layer_times[layer].second = s.ms;
        last_unpacked = std::max(last_unpacked, s.ms);
      }
    } else if (s.state == P::DONE) {
      done = s.ms;
    }
  }
  std::printf("  manifest resolved                    %10s\n", formatMs(resolved).c_str());
  for (const auto& [layer, times] : layer_times) {
    std::printf("  layer %-3zu fetched %10s   unpacked %10s\n", layer,
                formatMs(times.first).c_str(), formatMs(times.second).c_str());
  }
  std::printf("  all layers fetched                   %10s   RSS max until then %s MiB\n",
              formatMs(last_fetched).c_str(), format1(rssMaxUntil(0, last_fetched)).c_str());
  std::printf("  all layers unpacked                  %10s   RSS max in between %s MiB\n",
              formatMs(last_unpacked).c_str(),
              format1(rssMaxUntil(last_fetched, last_unpacked)).c_str());
  std::printf("  done (image registered)              %10s\n", formatMs(done).c_str());
  std::printf("  phases: resolve %s, fetch %s (all layers, %d at a time; unpacking overlaps "
              "it), unpack after the last fetch %s, register %s\n",
              formatMs(resolved).c_str(), formatMs(last_fetched - resolved).c_str(),
              kContdParallelFetches, formatMs(last_unpacked - last_fetched).c_str(),
              formatMs(done - last_unpacked).c_str());
  std::printf("  stream ended                         %10s\n", formatMs(t.ms).c_str());
  std::printf("  contd RSS idle %s MiB, peak (VmHWM) %s MiB, sampled max %s MiB\n",
              format1(t.idle_mib).c_str(), format1(t.peak_mib).c_str(),
              format1(rssMaxUntil(0, t.ms + 1)).c_str());
  printRule();
}

// ---- Cleanup

void PullBench::saveLogs() const {
  if (options_.save_logs.empty() || !work_) {
    return;
  }
  const fs::path dir = options_.save_logs;
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto copy = [&](const fs::path& from, const std::string& name) {
    std::error_code copy_ec;
    if (fs::exists(from, copy_ec)) {
      fs::copy_file(from, dir / name, fs::copy_options::overwrite_existing, copy_ec);
    }
    if (copy_ec) {
      std::fprintf(stderr, "bench_pull: save %s: %s\n", from.c_str(), copy_ec.message().c_str());
    }
  };
  copy(work_->path() / "contd" / "contd.log", "contd.log");
  if (containerd_) {
    copy(containerd_->logPath(), "containerd.log");
  }
  if (registry_) {
    copy(registry_->logPath(), "registry.log");
  }
}

Status PullBench::cleanUp() {
  if (cleaned_) {
    return okStatus();
  }
  cleaned_ = true;
  Status first = okStatus();
  if (contd_) {
    auto stopped = contd_->stop();
    if (!stopped) {
      keepFirst(first, stopped.error());
    }
    contd_.reset();
  }
  if (work_) {
    contd_log_ = readFile(work_->path() / "contd" / "contd.log");
  }
  if (containerd_) {
    // What an error or Ctrl-C left: images, then the namespace (containers there are none).
    const std::set<std::string> left = namespaces_;
    for (const std::string& ns : left) {
      if (Status dropped = dropNamespace(ns); !dropped) {
        keepFirst(first, dropped.error().wrap("remove namespace '" + ns + "'"));
      }
    }
  }
  saveLogs();
  if (registry_) {
    keepFirst(first, registry_->stop());
    registry_.reset();
  }
  if (containerd_) {
    keepFirst(first, containerd_->stop());
    containerd_.reset();
  }
  if (work_) {
    keepFirst(first, work_->remove());
    work_.reset();
  }
  return first;
}

int benchMain(int argc, char** argv) {
  auto options = parseOptions(argc, argv);
  if (!options) {
    std::fprintf(stderr, "bench_pull: %s\n%s", options.error().message.c_str(), usage().c_str());
    return kExitUsage;
  }
  if (options->help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  const fs::path own_dir = ownDirectory();
  if (options->contd.empty()) {
    options->contd = (own_dir / "contd").string();
  }
  if (options->contctl.empty()) {
    options->contctl = (own_dir / "contctl").string();
  }
  std::string missing = support::missingContainerdPrerequisites();
  if (const std::string registry = support::missingRegistryPrerequisites(); !registry.empty()) {
    missing += (missing.empty() ? "" : ", ") + registry;
  }
  for (const std::string& program : {options->contd, options->contctl, options->ctr}) {
    if (!support::findOnPath(program)) {
      missing += (missing.empty() ? "needs " : ", ") + program + " (executable)";
    }
  }
  if (!missing.empty()) {
    std::fprintf(stderr, "bench_pull: %s\n", missing.c_str());
    return kExitError;
  }
  log::init("warn");
  installSignalHandlers();

  PullBench bench(std::move(*options));
  Status status = bench.setUp();
  if (status) {
    status = bench.measure();
  }
  if (status) {
    status = bench.trace();
  }
  // contd's log (its own time per pull) is read once it has stopped, in cleanUp.
  Status cleaned = bench.cleanUp();
  if (status) {
    bench.report();
  }
  if (!status) {
    std::fprintf(stderr, "bench_pull: %s\n", status.error().message.c_str());
  }
  if (!cleaned) {
    std::fprintf(stderr, "bench_pull: cleanup: %s\n", cleaned.error().message.c_str());
  }
  return status && cleaned ? 0 : kExitError;
}

}  // namespace
}  // namespace contd::bench

int main(int argc, char** argv) {
  try {
    return contd::bench::benchMain(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pull: unexpected error: %s\n", e.what());
    return 1;
  }
}
