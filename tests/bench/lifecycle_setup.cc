// The lifecycle benchmark's surroundings: the private containerd, the network namespace
// and busybox rootfs the containers share, contd started and stopped around the measured and
// the traced rounds, and the cleanup of all of it.

#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "modules/containerd/grpc_client.h"
#include "tests/bench/bench_sweep.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/lifecycle_bench.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/unique_name.h"

namespace contd::bench::lifecycle {

LifecycleBench::LifecycleBench(Options options)
    : options_(std::move(options)),
      seed_(options_.seed.value_or(std::random_device{}())),
      rng_(seed_) {}

LifecycleBench::~LifecycleBench() {
  if (Status s = cleanUp(); !s) {
    std::fprintf(stderr, "bench_lifecycle: cleanup: %s\n", s.error().message.c_str());
  }
}

Status LifecycleBench::setUp() {
  load_before_ = loadAverage();
  contd_ns_ = support::uniqueName("benchd");
  ctr_ns_ = support::uniqueName("benchc");

  auto work = support::TempDir::make("contd-bench");
  if (!work) {
    return work.error();
  }
  work_.emplace(std::move(*work));
  std::error_code ec;
  fs::create_directories(work_->path() / "ctr-logs", ec);
  if (ec) {
    return internalError("create '" + (work_->path() / "ctr-logs").string() + "': " + ec.message());
  }

  auto rootfs = support::BusyboxRootfs::build();
  if (!rootfs) {
    return rootfs.error();
  }
  rootfs_.emplace(std::move(*rootfs));

  auto netns = support::NetworkNamespace::create("contd-bn");
  if (!netns) {
    return netns.error();
  }
  netns_ = std::move(*netns);

  auto containerd = support::PrivateContainerd::start();
  if (!containerd) {
    return containerd.error();
  }
  containerd_ = std::move(*containerd);

  auto client = containerd::GrpcClient::connect(containerd_->socketPath(), 10s);
  if (!client) {
    return client.error();
  }
  auto version = (*client)->version();
  versions_ = "containerd " + (version ? *version : std::string("?"));
  if (auto runc = support::runCommand({"runc", "--version"}); runc && runc->ok()) {
    versions_ += ", " + firstLine(runc->out);
  }
  if (auto contd = support::runCommand({options_.contd, "--version"}); contd && contd->ok()) {
    versions_ += ", " + firstLine(contd->out);
  }
  versions_ += ", " + std::to_string(std::thread::hardware_concurrency()) + " CPUs";

  return startContd(work_->path() / "contd", "info");
}

Status LifecycleBench::startContd(const fs::path& dir, std::string_view level) {
  support::ContdDaemon::Options options;
  options.binary = options_.contd;
  options.containerd_socket = containerd_->socketPath();
  options.dir = dir;
  options.extra_args = {"--log-level", std::string(level)};
  // The runtime, shim group and seccomp settings go into a config file (flags would
  // override it), so that useChoice can change them by a reload.
  std::error_code ec;
  fs::create_directories(dir, ec);
  contd_config_ = dir / "contd.json";
  contd_choice_ = baseChoice();
  CONTD_RETURN_IF_ERROR(writeConfig(contd_config_, contd_choice_));
  options.extra_args.insert(options.extra_args.begin(), {"--config", contd_config_.string()});
  auto daemon = support::ContdDaemon::start(options);
  if (!daemon) {
    return daemon.error();
  }
  contd_ = std::move(*daemon);
  contd_dir_ = dir;
  channel_ = grpc::CreateChannel("unix:" + contd_->socketPath(), grpc::InsecureChannelCredentials());
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + 10s)) {
    return unavailable("gRPC channel to contd at '" + contd_->socketPath() + "' did not connect");
  }
  stub_ = v1::Containers::NewStub(channel_);
  return awaitChoice(contd_choice_);
}

Result<std::string> LifecycleBench::stopContd() {
  stub_.reset();
  channel_.reset();
  if (!contd_) {
    return std::string();
  }
  auto stopped = contd_->stop();
  contd_.reset();
  std::string log = readFile(contd_dir_ / "contd.log");
  if (!stopped) {
    return stopped.error();
  }
  return log;
}

void LifecycleBench::saveLogs() const {
  if (options_.save_logs.empty()) {
    return;
  }
  const fs::path dir = options_.save_logs;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (work_) {
    saveLog(work_->path() / "contd" / "contd.log", dir, "contd.log", "bench_lifecycle");
    saveLog(work_->path() / "contd-trace" / "contd.log", dir, "contd-trace.log",
            "bench_lifecycle");
  }
  if (containerd_) {
    saveLog(containerd_->logPath(), dir, "containerd.log", "bench_lifecycle");
  }
}

Status LifecycleBench::cleanUp() {
  if (cleaned_) {
    return okStatus();
  }
  cleaned_ = true;
  Status first = okStatus();

  // contd first, so that nothing of it acts on the containers while they are purged.
  if (contd_) {
    auto log = stopContd();
    if (!log) {
      keepFirst(first, log.error());
    }
  }
  if (containerd_) {
    if (interrupted()) {
      // A Ctrl-C in the terminal reached containerd too (same process group). Tasks survive
      // a containerd exit; a fresh containerd on the same state lists them for the purge.
      keepFirst(first, containerd_->stop());
      keepFirst(first, containerd_->restart());
    }
    // The purge does the normal work; what it cannot do the sweep below finishes, and the
    // final removeHostLeftovers says whether anything is left.
    purgeNamespaces(containerd_->socketPath(), {contd_ns_, ctr_ns_}, "bench_lifecycle");
    keepFirst(first, containerd_->stop());
    keepFirst(first,
              sweepNamespaces(containerd_->socketPath(), {contd_ns_, ctr_ns_}, "bench_lifecycle"));
  }
  saveLogs();
  containerd_.reset();
  if (netns_) {
    keepFirst(first, netns_->remove());
    netns_.reset();
  }
  rootfs_.reset();
  if (work_) {
    keepFirst(first, work_->remove());
    work_.reset();
  }
  return first;
}

}  // namespace contd::bench::lifecycle
