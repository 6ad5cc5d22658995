// The pull benchmark's measurements: per round and image a pull by contd (and a cached
// one) and one by ctr, each timed from spawn to exit with the CPU and memory around it, and
// the traced pull through contd's gRPC API.

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <tuple>

#include <grpcpp/grpcpp.h>

#include "tests/bench/bench_util.h"
#include "tests/bench/pull_bench.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/unique_name.h"

namespace contd::bench::pull {

namespace {

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

// CPU seconds of a process that should be running; 0 once it is gone.
double cpuOf(pid_t pid) { return cpuSeconds(pid).value_or(0); }

}  // namespace

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
  const double contd_cpu = cpuOf(contd);
  const double containerd_cpu = cpuOf(containerd);
  const double registry_cpu = cpuOf(registry_->pid());
  auto run = runTimed({options_.contctl, "--socket", contd_->socketPath(), "pull", ns,
                       image.ref, "--plain-http"},
                      work_->path(), kPullTimeout);
  ++contd_pulls_;
  if (!run) {
    return run.error();
  }
  pull.peak_mib = statusMib(contd, "VmHWM");
  pull.after_mib = statusMib(contd, "VmRSS");
  pull.contd_cpu_s = cpuOf(contd) - contd_cpu;
  pull.containerd_cpu_s = cpuOf(containerd) - containerd_cpu;
  pull.registry_cpu_s = cpuOf(registry_->pid()) - registry_cpu;
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
  const double containerd_cpu = cpuOf(containerd_->pid());
  const double registry_cpu = cpuOf(registry_->pid());
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
  pull.containerd_cpu_s = cpuOf(containerd_->pid()) - containerd_cpu;
  pull.registry_cpu_s = cpuOf(registry_->pid()) - registry_cpu;
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
  RssSampler sampler(contd, start, kRssSampleInterval);
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

}  // namespace contd::bench::pull
