// The pull benchmark's surroundings: the private containerd, the loopback registry and
// contd on that containerd, the namespaces every pull gets and loses, and the cleanup.

#include <cstdio>
#include <sstream>
#include <thread>

#include "tests/bench/bench_util.h"
#include "tests/bench/pull_bench.h"
#include "tests/integration/support/run_command.h"

namespace contd::bench::pull {

PullBench::~PullBench() {
  if (Status s = cleanUp(); !s) {
    std::fprintf(stderr, "bench_pull: cleanup: %s\n", s.error().message.c_str());
  }
}

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

void PullBench::saveLogs() const {
  if (options_.save_logs.empty() || !work_) {
    return;
  }
  const fs::path dir = options_.save_logs;
  std::error_code ec;
  fs::create_directories(dir, ec);
  saveLog(work_->path() / "contd" / "contd.log", dir, "contd.log", "bench_pull");
  if (containerd_) {
    saveLog(containerd_->logPath(), dir, "containerd.log", "bench_pull");
  }
  if (registry_) {
    saveLog(registry_->logPath(), dir, "registry.log", "bench_pull");
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

}  // namespace contd::bench::pull
