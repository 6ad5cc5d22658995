// bench_lifecycle: how long Run and Delete take through contd, compared with containerd's
// own ctr, all against one private containerd that the benchmark starts itself.
//
// A benchmark, not a test: it prints figures and whether the targets of the issue are met
// (contd Run <= 0.8x ctr's, contd Delete <= 0.6x ctr's), and fails only when it cannot
// measure. What each number includes: docs/benchmarks.md.
//
// Variants, one container of each per round, in an order shuffled per round:
//   contctl  `contctl run` / `contctl rm`: a new process (and gRPC channel) per call
//   client   contd's gRPC API through one persistent channel (contd::v1::Containers stub)
//   ctr      `ctr run -d --rootfs` / `ctr task rm -f` + `ctr container rm`
//   forced   the gRPC client again, with a 1 ms shutdown timeout and a command that ignores
//            SIGTERM: contd's Delete when it has to SIGKILL, like `ctr task rm -f` always does
// Needs root, containerd, runc, ctr, ip and busybox-static.
//
// Exit status: 0 measured (targets met or not), 1 could not measure, 2 usage error.

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
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
#include "modules/containerd/grpc_client.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/stats.h"
#include "tests/bench/trace_log.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
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

constexpr double kRunTarget = 0.8;
constexpr double kDeleteTarget = 0.6;

// PID 1 of the container: exits at once on SIGTERM (a shell waiting in `wait` runs the trap
// straight away), so contd's graceful Delete costs what a cooperative container costs.
constexpr char kGracefulScript[] = "trap 'exit 0' TERM; while true; do sleep 1 & wait; done";
// The same loop ignoring SIGTERM, for the forced variant.
constexpr char kStubbornScript[] = "trap '' TERM; while true; do sleep 1 & wait; done";
// The forced variant's shutdown timeout: SIGKILL follows SIGTERM after this.
constexpr std::uint64_t kForcedShutdownMs = 1;

constexpr auto kCommandTimeout = 60s;
constexpr auto kCallTimeout = 60s;

// ---- Options

struct Options {
  int count = 30;
  int warmup = 2;
  int trace = 5;
  std::string contd;
  std::string contctl;
  std::string ctr = "ctr";
  std::uint64_t shutdown_timeout_ms = 3000;
  int settle_ms = 100;
  std::string ctr_io = "file";
  std::optional<std::uint64_t> seed;
  std::string save_logs;
  bool seccomp = true;
  std::string seccomp_profile;  // contd's; empty: contd's own default
  bool help = false;
};

std::string usage() {
  return "usage: bench_lifecycle [OPTIONS]\n"
         "Run and Delete latency of contd (through contctl, and through one persistent gRPC\n"
         "client) against containerd's ctr, on a private containerd. Needs root.\n"
         "\n"
         "  --count N             containers per variant (default 30)\n"
         "  --warmup N            unmeasured rounds first (default 2)\n"
         "  --trace N             containers in the traced round with contd at debug level\n"
         "                        (default 5; 0 skips it)\n"
         "  --contd PATH          contd binary (default: next to this program)\n"
         "  --contctl PATH        contctl binary (default: next to this program)\n"
         "  --ctr PATH            ctr binary (default: ctr on PATH)\n"
         "  --shutdown-timeout MS contd's SIGTERM-to-SIGKILL delay for the graceful variants\n"
         "                        (default 3000, the daemon's default)\n"
         "  --settle MS           pause between a round's Runs and its Deletes (default 100)\n"
         "  --ctr-io file|fifo    ctr's container IO: file:// like contd (default), or ctr's\n"
         "                        own fifos\n"
         "  --seccomp on|off      syscall filter for both (default on): contd's profile, and\n"
         "                        ctr --seccomp (containerd's default profile); off: neither\n"
         "  --seccomp-profile PATH  contd's seccomp profile (default: contd's own default)\n"
         "  --seed N              seed of the per-round shuffle (default: random, printed)\n"
         "  --save-logs DIR       copy contd's and containerd's logs to DIR at the end\n"
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
    auto setInt = [&](int& field, int min) -> Status {
      auto number = parseNumber<int>(flag, value);
      if (!number) {
        return number.error();
      }
      if (*number < min) {
        return invalidArgument(std::string(flag) + ": must be at least " + std::to_string(min));
      }
      field = *number;
      return okStatus();
    };
    if (flag == "--count") {
      CONTD_RETURN_IF_ERROR(setInt(options.count, 1));
    } else if (flag == "--warmup") {
      CONTD_RETURN_IF_ERROR(setInt(options.warmup, 0));
    } else if (flag == "--trace") {
      CONTD_RETURN_IF_ERROR(setInt(options.trace, 0));
    } else if (flag == "--settle") {
      CONTD_RETURN_IF_ERROR(setInt(options.settle_ms, 0));
    } else if (flag == "--shutdown-timeout") {
      auto ms = parseNumber<std::uint64_t>(flag, value);
      if (!ms) {
        return ms.error();
      }
      if (*ms == 0) {
        return invalidArgument("--shutdown-timeout: must be at least 1 (0 means the default)");
      }
      options.shutdown_timeout_ms = *ms;
    } else if (flag == "--seed") {
      auto seed = parseNumber<std::uint64_t>(flag, value);
      if (!seed) {
        return seed.error();
      }
      options.seed = *seed;
    } else if (flag == "--ctr-io") {
      if (value != "file" && value != "fifo") {
        return invalidArgument("--ctr-io '" + std::string(value) + "': expected file or fifo");
      }
      options.ctr_io = value;
    } else if (flag == "--seccomp") {
      if (value != "on" && value != "off") {
        return invalidArgument("--seccomp '" + std::string(value) + "': expected on or off");
      }
      options.seccomp = value == "on";
    } else if (flag == "--seccomp-profile") {
      options.seccomp_profile = value;
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

// An error for a command that ran but failed, with its stderr.
Status commandSucceeded(const std::vector<std::string>& argv,
                        const Result<support::CommandResult>& result, int expected_exit = 0) {
  if (!result) {
    return result.error();
  }
  if (result->exit_code != expected_exit) {
    std::string err = result->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) {
      err.pop_back();
    }
    return internalError("'" + support::describeCommand(argv) + "' exited with " +
                         std::to_string(result->exit_code) + " (expected " +
                         std::to_string(expected_exit) + ")" + (err.empty() ? "" : ": " + err));
  }
  return okStatus();
}

Error grpcError(std::string_view what, const grpc::Status& status) {
  return internalError(std::string(what) + ": gRPC code " +
                       std::to_string(static_cast<int>(status.error_code())) + ": " +
                       status.error_message());
}

// ---- What is measured

enum class Variant { kContctl, kClient, kCtr, kForced };
constexpr std::array<Variant, 4> kVariants = {Variant::kContctl, Variant::kClient, Variant::kCtr,
                                              Variant::kForced};

// The container id prefix (also what the log parser filters on) and the report label.
std::string_view tagOf(Variant variant) {
  switch (variant) {
    case Variant::kContctl: return "cli";
    case Variant::kClient: return "api";
    case Variant::kCtr: return "ctr";
    case Variant::kForced: return "kill";
  }
  return "?";
}

std::string_view labelOf(Variant variant) {
  switch (variant) {
    case Variant::kContctl: return "contd via contctl (process per call)";
    case Variant::kClient: return "contd via gRPC client (one channel)";
    case Variant::kCtr: return "ctr (run -d | task rm -f + c rm)";
    case Variant::kForced: return "contd via gRPC client, forced Delete*";
  }
  return "?";
}

// Costs around the calls themselves, measured in every round too.
enum class Probe { kSpawn, kContctlHelp, kContctlInspect, kClientInspect, kCtrFlag, kCtrVersion };
constexpr std::array<Probe, 6> kProbes = {Probe::kSpawn,         Probe::kContctlHelp,
                                          Probe::kContctlInspect, Probe::kClientInspect,
                                          Probe::kCtrFlag,        Probe::kCtrVersion};

std::string_view labelOf(Probe probe) {
  switch (probe) {
    case Probe::kSpawn: return "`true` via fork+exec (the bench's own spawn cost)";
    case Probe::kContctlHelp: return "`contctl help` (process start, gRPC init, no call)";
    case Probe::kContctlInspect: return "`contctl inspect` of a missing container";
    case Probe::kClientInspect: return "gRPC client Inspect of a missing container";
    case Probe::kCtrFlag: return "`ctr --version` (process start and exit only)";
    case Probe::kCtrVersion: return "`ctr version` (process + connect + 1 RPC)";
  }
  return "?";
}

struct Samples {
  std::vector<double> run;
  std::vector<double> remove;
};

// ---- The benchmark

class LifecycleBench {
public:
  explicit LifecycleBench(Options options)
      : options_(std::move(options)),
        seed_(options_.seed.value_or(std::random_device{}())),
        rng_(seed_) {}
  ~LifecycleBench() {
    if (Status s = cleanUp(); !s) {
      std::fprintf(stderr, "bench_lifecycle: cleanup: %s\n", s.error().message.c_str());
    }
  }
  LifecycleBench(const LifecycleBench&) = delete;
  LifecycleBench& operator=(const LifecycleBench&) = delete;

  Status setUp();
  Status measure();
  Status trace();
  void report() const;
  // Removes everything the benchmark made, in dependency order; tries every step and
  // returns the first error. Idempotent.
  Status cleanUp();

private:
  Status startContd(const fs::path& dir, std::string_view level);
  Result<std::string> stopContd();
  Status round(int index, bool measured);
  Result<double> runContainer(Variant variant, const std::string& id);
  Result<double> removeContainer(Variant variant, const std::string& id);
  Result<double> clientRun(const std::string& id, const char* script, std::uint64_t shutdown_ms);
  Result<double> clientDelete(const std::string& id);
  Result<double> probe(Probe probe);
  void settle() const;
  void saveLogs() const;

  Options options_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;

  std::optional<support::TempDir> work_;
  std::optional<support::BusyboxRootfs> rootfs_;
  std::unique_ptr<support::NetworkNamespace> netns_;
  std::unique_ptr<support::PrivateContainerd> containerd_;
  std::unique_ptr<support::ContdDaemon> contd_;
  fs::path contd_dir_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Containers::Stub> stub_;
  std::string contd_ns_;  // containerd namespace of contd's containers
  std::string ctr_ns_;    // and of ctr's
  bool cleaned_ = false;

  // Facts for the report.
  std::string versions_;
  std::string load_before_;
  std::string load_after_;
  std::map<Variant, Samples> samples_;
  std::map<Probe, std::vector<double>> probes_;
  std::string measured_log_;  // contd's log of the measured rounds (info level)
  std::string traced_log_;    // contd's log of the traced round (debug level)
  std::vector<double> traced_run_;
  std::vector<double> traced_delete_;
};

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
  // Only what the benchmark has to decide goes into a config file: the seccomp profile.
  if (!options_.seccomp || !options_.seccomp_profile.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    const fs::path config_path = dir / "contd.json";
    const nlohmann::json config = {
        {"seccomp_profile", options_.seccomp ? options_.seccomp_profile : std::string()}};
    std::ofstream out(config_path);
    out << config.dump(2) << "\n";
    out.close();
    if (!out) {
      return internalError("write '" + config_path.string() + "' failed");
    }
    options.extra_args.insert(options.extra_args.begin(), {"--config", config_path.string()});
  }
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
  return okStatus();
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

void LifecycleBench::settle() const {
  std::this_thread::sleep_for(std::chrono::milliseconds(options_.settle_ms));
}

Result<double> LifecycleBench::clientRun(const std::string& id, const char* script,
                                         std::uint64_t shutdown_ms) {
  v1::RunRequest request;
  request.set_namespace_(contd_ns_);
  v1::ContainerSpec* spec = request.mutable_spec();
  spec->set_name(id);
  spec->set_rootfs(rootfs_->path().string());
  spec->add_argv("/bin/sh");
  spec->add_argv("-c");
  spec->add_argv(script);
  spec->set_network_namespace(netns_->name());
  spec->set_shutdown_timeout_ms(shutdown_ms);
  v1::RunResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);

  const auto start = Clock::now();
  const grpc::Status status = stub_->Run(&context, request, &response);
  const double ms = msSince(start);
  if (!status.ok()) {
    return grpcError("Run '" + id + "'", status);
  }
  return ms;
}

Result<double> LifecycleBench::clientDelete(const std::string& id) {
  v1::DeleteRequest request;
  request.set_namespace_(contd_ns_);
  request.set_id(id);
  v1::DeleteResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);

  const auto start = Clock::now();
  const grpc::Status status = stub_->Delete(&context, request, &response);
  const double ms = msSince(start);
  if (!status.ok()) {
    return grpcError("Delete '" + id + "'", status);
  }
  return ms;
}

Result<double> LifecycleBench::runContainer(Variant variant, const std::string& id) {
  const std::string rootfs = rootfs_->path().string();
  std::vector<std::string> argv;
  switch (variant) {
    case Variant::kClient:
      return clientRun(id, kGracefulScript, options_.shutdown_timeout_ms);
    case Variant::kForced:
      return clientRun(id, kStubbornScript, kForcedShutdownMs);
    case Variant::kContctl:
      argv = {options_.contctl, "--socket", contd_->socketPath(), "run", contd_ns_, id,
              "--rootfs", rootfs, "--netns", netns_->name(), "--shutdown-timeout",
              std::to_string(options_.shutdown_timeout_ms), "--", "/bin/sh", "-c",
              kGracefulScript};
      break;
    case Variant::kCtr:
      argv = {options_.ctr, "-a", containerd_->socketPath(), "-n", ctr_ns_, "run", "-d",
              "--rootfs", "--with-ns", "network:" + netns_->path(), "--cgroup",
              "/" + ctr_ns_ + "/" + id};
      if (options_.seccomp) {
        argv.push_back("--seccomp");
      }
      if (options_.ctr_io == "file") {
        argv.push_back("--log-uri");
        argv.push_back("file://" + (work_->path() / "ctr-logs" / (id + ".log")).string());
      }
      for (const std::string& arg : {rootfs, id, std::string("/bin/sh"), std::string("-c"),
                                     std::string(kGracefulScript)}) {
        argv.push_back(arg);
      }
      break;
  }
  const auto start = Clock::now();
  auto result = support::runCommand(argv, kCommandTimeout);
  const double ms = msSince(start);
  CONTD_RETURN_IF_ERROR(commandSucceeded(argv, result));
  return ms;
}

Result<double> LifecycleBench::removeContainer(Variant variant, const std::string& id) {
  switch (variant) {
    case Variant::kClient:
    case Variant::kForced:
      return clientDelete(id);
    case Variant::kContctl: {
      const std::vector<std::string> argv = {options_.contctl, "--socket", contd_->socketPath(),
                                             "rm", contd_ns_, id};
      const auto start = Clock::now();
      auto result = support::runCommand(argv, kCommandTimeout);
      const double ms = msSince(start);
      CONTD_RETURN_IF_ERROR(commandSucceeded(argv, result));
      return ms;
    }
    case Variant::kCtr: {
      const std::vector<std::string> kill_and_delete_task = {
          options_.ctr, "-a", containerd_->socketPath(), "-n", ctr_ns_, "task", "rm", "-f", id};
      const std::vector<std::string> delete_container = {
          options_.ctr, "-a", containerd_->socketPath(), "-n", ctr_ns_, "container", "rm", id};
      const auto start = Clock::now();
      auto task = support::runCommand(kill_and_delete_task, kCommandTimeout);
      if (!task || !task->ok()) {
        return commandSucceeded(kill_and_delete_task, task).error();
      }
      auto container = support::runCommand(delete_container, kCommandTimeout);
      const double ms = msSince(start);
      CONTD_RETURN_IF_ERROR(commandSucceeded(delete_container, container));
      return ms;
    }
  }
  return internalError("unknown variant");
}

Result<double> LifecycleBench::probe(Probe probe) {
  std::vector<std::string> argv;
  int expected_exit = 0;
  switch (probe) {
    case Probe::kSpawn:
      argv = {"true"};
      break;
    case Probe::kContctlHelp:
      argv = {options_.contctl, "help"};
      break;
    case Probe::kContctlInspect:
      // contd answers NOT_FOUND after one containers.Get; contctl exits 1 on a server error.
      argv = {options_.contctl, "--socket", contd_->socketPath(), "inspect", contd_ns_,
              "missing"};
      expected_exit = 1;
      break;
    case Probe::kCtrFlag:
      argv = {options_.ctr, "--version"};
      break;
    case Probe::kCtrVersion:
      argv = {options_.ctr, "-a", containerd_->socketPath(), "version"};
      break;
    case Probe::kClientInspect: {
      v1::InspectRequest request;
      request.set_namespace_(contd_ns_);
      request.set_id("missing");
      v1::InspectResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
      const auto start = Clock::now();
      const grpc::Status status = stub_->Inspect(&context, request, &response);
      const double ms = msSince(start);
      if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
        return grpcError("Inspect 'missing' (expected NOT_FOUND)", status);
      }
      return ms;
    }
  }
  const auto start = Clock::now();
  auto result = support::runCommand(argv, kCommandTimeout);
  const double ms = msSince(start);
  CONTD_RETURN_IF_ERROR(commandSucceeded(argv, result, expected_exit));
  return ms;
}

Status LifecycleBench::round(int index, bool measured) {
  // Warm-up ids start with "w", so that the log parser's prefixes ("cli-", ...) skip them.
  auto idOf = [&](Variant variant) {
    return (measured ? "" : "w") + std::string(tagOf(variant)) + "-" + std::to_string(index);
  };
  std::array<Variant, kVariants.size()> order = kVariants;
  std::shuffle(order.begin(), order.end(), rng_);
  for (Variant variant : order) {
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    auto ms = runContainer(variant, idOf(variant));
    if (!ms) {
      return ms.error().wrap("run " + std::string(tagOf(variant)));
    }
    if (measured) {
      samples_[variant].run.push_back(*ms);
    }
  }
  // The shells set their trap within a millisecond or two of starting; the pause keeps a
  // Delete from racing it (a SIGTERM before the trap would be ignored by PID 1).
  settle();
  std::shuffle(order.begin(), order.end(), rng_);
  for (Variant variant : order) {
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    auto ms = removeContainer(variant, idOf(variant));
    if (!ms) {
      return ms.error().wrap("delete " + std::string(tagOf(variant)));
    }
    if (measured) {
      samples_[variant].remove.push_back(*ms);
    }
  }
  std::array<Probe, kProbes.size()> probes = kProbes;
  std::shuffle(probes.begin(), probes.end(), rng_);
  for (Probe p : probes) {
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    auto ms = probe(p);
    if (!ms) {
      return ms.error();
    }
    if (measured) {
      probes_[p].push_back(*ms);
    }
  }
  return okStatus();
}

Status LifecycleBench::measure() {
  for (int i = 0; i < options_.warmup; ++i) {
    CONTD_RETURN_IF_ERROR(round(i, /*measured=*/false));
  }
  for (int i = 0; i < options_.count; ++i) {
    CONTD_RETURN_IF_ERROR(round(i, /*measured=*/true));
    if (::isatty(STDERR_FILENO) != 0) {
      std::fprintf(stderr, "\rbench_lifecycle: round %d/%d", i + 1, options_.count);
    }
  }
  if (::isatty(STDERR_FILENO) != 0) {
    std::fprintf(stderr, "\n");
  }
  load_after_ = loadAverage();
  auto log = stopContd();
  if (!log) {
    return log.error();
  }
  measured_log_ = std::move(*log);
  return okStatus();
}

Status LifecycleBench::trace() {
  if (options_.trace == 0) {
    return okStatus();
  }
  CONTD_RETURN_IF_ERROR(startContd(work_->path() / "contd-trace", "debug"));
  // One unmeasured container first ("trw-0"), like the warm-up of the measured rounds.
  for (int i = -1; i < options_.trace; ++i) {
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    const std::string id = i < 0 ? "trw-0" : "tr-" + std::to_string(i);
    auto run = clientRun(id, kGracefulScript, options_.shutdown_timeout_ms);
    if (!run) {
      return run.error();
    }
    settle();
    auto removed = clientDelete(id);
    if (!removed) {
      return removed.error();
    }
    if (i >= 0) {
      traced_run_.push_back(*run);
      traced_delete_.push_back(*removed);
    }
  }
  auto log = stopContd();
  if (!log) {
    return log.error();
  }
  traced_log_ = std::move(*log);
  return okStatus();
}

// ---- Report

void printRule() { std::printf("%s\n", std::string(100, '-').c_str()); }

void LifecycleBench::report() const {
  constexpr std::size_t kLabel = 42;
  constexpr std::size_t kCol = 8;
  auto row = [&](const std::string& label, const std::vector<std::string>& cells) {
    std::string line = padRight(label, kLabel);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      line += padLeft(cells[i], kCol);
      if (i == 2) {
        line += "   ";
      }
    }
    std::printf("%s\n", line.c_str());
  };
  auto summaryOf = [&](Variant variant, bool run) {
    const auto it = samples_.find(variant);
    return it == samples_.end() ? Summary{} : summarize(run ? it->second.run : it->second.remove);
  };

  std::printf("\ncontd lifecycle benchmark\n");
  printRule();
  std::printf("%s; load average %s before, %s after\n", versions_.c_str(), load_before_.c_str(),
              load_after_.c_str());
  std::printf("build type of this benchmark (and of contd/contctl when they come from the same "
              "build): %s\n",
              CONTD_BENCH_BUILD_TYPE[0] != '\0' ? CONTD_BENCH_BUILD_TYPE : "(none)");
  std::printf(
      "%d containers per variant after %d warm-up round(s); per round one container of each\n"
      "variant is run in shuffled order (seed %llu), then after %d ms deleted in shuffled order.\n",
      options_.count, options_.warmup, static_cast<unsigned long long>(seed_), options_.settle_ms);
  std::printf("command: /bin/sh -c \"%s\"; IO: contd file://, ctr %s;\n"
              "contd shutdown timeout %llu ms; seccomp: %s\n",
              kGracefulScript, options_.ctr_io == "file" ? "file:// (--log-uri)" : "fifos",
              static_cast<unsigned long long>(options_.shutdown_timeout_ms),
              !options_.seccomp ? "off for both"
              : options_.seccomp_profile.empty()
                  ? "contd's default profile, ctr --seccomp"
                  : ("contd " + fs::path(options_.seccomp_profile).filename().string() +
                     ", ctr --seccomp")
                        .c_str());
  printRule();
  std::printf("%s%s%s\n", padRight("", kLabel).c_str(), padRight("  Run (ms)", 3 * kCol + 3).c_str(),
              "  Delete (ms)");
  row("", {"median", "p90", "min", "median", "p90", "min"});
  for (Variant variant : kVariants) {
    const Summary run = summaryOf(variant, true);
    const Summary del = summaryOf(variant, false);
    const bool r = run.count > 0;
    const bool d = del.count > 0;
    row(std::string(labelOf(variant)),
        {formatMs(run.median, r), formatMs(run.p90, r), formatMs(run.min, r),
         formatMs(del.median, d), formatMs(del.p90, d), formatMs(del.min, d)});
  }
  std::printf("* shutdown timeout %llu ms and a PID 1 that ignores SIGTERM: SIGTERM, wait %llu ms, "
              "SIGKILL (what ctr's rm -f does at once)\n",
              static_cast<unsigned long long>(kForcedShutdownMs),
              static_cast<unsigned long long>(kForcedShutdownMs));
  printRule();

  const Summary ctr_run = summaryOf(Variant::kCtr, true);
  const Summary ctr_del = summaryOf(Variant::kCtr, false);
  auto verdict = [](double contd, double ctr, double target) {
    return ctr > 0 && contd / ctr <= target ? std::string("met") : std::string("MISSED");
  };
  char heading[128];
  std::snprintf(heading, sizeof(heading), "Run <= %.2f x ctr", kRunTarget);
  std::string run_heading = heading;
  std::snprintf(heading, sizeof(heading), "Delete <= %.2f x ctr", kDeleteTarget);
  std::string del_heading = heading;
  std::printf("%s%s%s\n", padRight("targets: ratio of medians, contd / ctr", kLabel).c_str(),
              padRight(run_heading, 27).c_str(), del_heading.c_str());
  for (Variant variant : {Variant::kContctl, Variant::kClient, Variant::kForced}) {
    const Summary run = summaryOf(variant, true);
    const Summary del = summaryOf(variant, false);
    std::string run_cell = padLeft(formatRatio(run.median, ctr_run.median), 6) + "  " +
                           verdict(run.median, ctr_run.median, kRunTarget);
    std::string del_cell = padLeft(formatRatio(del.median, ctr_del.median), 6) + "  " +
                           verdict(del.median, ctr_del.median, kDeleteTarget);
    std::printf("%s%s%s\n", padRight(std::string(labelOf(variant)), kLabel).c_str(),
                padRight(run_cell, 27).c_str(), del_cell.c_str());
  }
  printRule();

  // What contd itself logged for the measured calls (info level: the API layer's total per
  // call, and the container module's Run/Delete time), against what the caller saw.
  std::printf("inside contd (its log of the measured rounds; medians, ms)\n");
  std::printf("%s%s%s\n", padRight("", kLabel).c_str(), padRight("  Run", 3 * kCol + 3).c_str(),
              "  Delete");
  row("", {"seen", "server", "outside", "seen", "server", "outside"});
  std::size_t fallbacks = 0;
  std::size_t graceful_deletes = 0;
  for (Variant variant : {Variant::kContctl, Variant::kClient, Variant::kForced}) {
    const auto steps =
        parseStepTimings(measured_log_, contd_ns_, std::string(tagOf(variant)) + "-");
    auto median = [&](std::string_view key) -> std::optional<double> {
      const auto it = steps.find(key);
      if (it == steps.end() || it->second.empty()) {
        return std::nullopt;
      }
      return summarize(it->second).median;
    };
    const Summary run = summaryOf(variant, true);
    const Summary del = summaryOf(variant, false);
    const auto run_server = median("api: Run");
    const auto del_server = median("api: Delete");
    row(std::string(labelOf(variant)),
        {formatMs(run.median, run.count > 0), formatMs(run_server.value_or(0), run_server.has_value()),
         formatMs(run.median - run_server.value_or(0), run_server.has_value()),
         formatMs(del.median, del.count > 0), formatMs(del_server.value_or(0), del_server.has_value()),
         formatMs(del.median - del_server.value_or(0), del_server.has_value())});
    if (variant != Variant::kForced) {
      const auto it = steps.find("container: killed");
      fallbacks += it == steps.end() ? 0 : it->second.size();
      graceful_deletes += del.count;
    }
  }
  std::printf("server = contd's `call op=... ms=` (request in to answer out); outside = seen - server\n"
              "(client process, connection, transport). Graceful Deletes that fell back to SIGKILL: "
              "%zu of %zu\n",
              fallbacks, graceful_deletes);
  printRule();

  std::printf("process and connection costs (median, p90 in ms; %d samples each)\n", options_.count);
  for (Probe p : kProbes) {
    const auto it = probes_.find(p);
    const Summary s = it == probes_.end() ? Summary{} : summarize(it->second);
    std::printf("%s%s%s\n", padRight(std::string(labelOf(p)), 58).c_str(),
                padLeft(formatMs(s.median, s.count > 0), kCol).c_str(),
                padLeft(formatMs(s.p90, s.count > 0), kCol).c_str());
  }
  printRule();

  if (options_.trace == 0 || traced_log_.empty()) {
    return;
  }
  // Every timed line of a traced container, by phase: up to contd's "call op=Run" line it
  // belongs to Run, then up to "call op=Delete" to Delete, after that to neither (work
  // contd does on its own, e.g. its supervisor reacting to the exit).
  // A line logged by other threads while the call runs (the supervisor reacting to the
  // task's exit, say) counts in the call's phase: it competed with the call.
  static constexpr std::array<const char*, 3> kPhases = {"Run", "Delete", "after Delete"};
  struct Step {
    std::size_t phase;
    std::string key;
    std::vector<double> ms;
  };
  std::vector<Step> steps;  // in order of first appearance
  std::map<std::string, std::size_t> phase_of;
  for (const TimedLine& timed : parseTimedLines(traced_log_, contd_ns_, "tr-")) {
    const std::size_t phase = std::min<std::size_t>(phase_of[timed.id], kPhases.size() - 1);
    auto it = std::find_if(steps.begin(), steps.end(), [&](const Step& step) {
      return step.phase == phase && step.key == timed.key;
    });
    if (it == steps.end()) {
      steps.push_back(Step{phase, timed.key, {}});
      it = steps.end() - 1;
    }
    it->ms.push_back(timed.ms);
    if (timed.key == "api: Run" || timed.key == "api: Delete") {
      ++phase_of[timed.id];
    }
  }
  std::printf("traced round: contd --log-level debug, %d container(s) through the gRPC client\n"
              "(medians in ms, number of lines in brackets; \"container:\" steps count from the\n"
              "start of the module's work, \"containerd:\" lines are single RPCs, in log order)\n",
              options_.trace);
  std::stable_sort(steps.begin(), steps.end(),
                   [](const Step& a, const Step& b) { return a.phase < b.phase; });
  std::string phase;
  for (const Step& step : steps) {
    if (kPhases[step.phase] != phase) {
      phase = kPhases[step.phase];
      const std::vector<double>* seen = phase == "Run"      ? &traced_run_
                                        : phase == "Delete" ? &traced_delete_
                                                            : nullptr;
      if (seen != nullptr) {
        std::printf("  %s%s\n", padRight(phase + ", seen by the client", 56).c_str(),
                    padLeft(formatMs(summarize(*seen).median), kCol).c_str());
      } else {
        std::printf("  %s\n", phase.c_str());
      }
    }
    std::printf("    %s%s   (%zu)\n", padRight(step.key, 54).c_str(),
                padLeft(formatMs(summarize(step.ms).median), kCol).c_str(), step.ms.size());
  }
  printRule();
}

// ---- Cleanup

// After an interrupted run (a Ctrl-C in the terminal reaches contd and containerd too, and
// may land in the middle of a task Create) containerd can lose track of a task: its runc
// container and its shim then outlive the purge. Removes what is left of namespace `ns`:
// the runc containers under runc's state root (runc delete --force kills their processes and
// removes their cgroups), then the shims this benchmark's containerd started for `ns`,
// recognised by their command line (`containerd-shim-runc-v2 -namespace <ns> ... -address
// <our socket>`; the namespace name is unique to this run) and killed by pid. Run with
// containerd stopped.
Status sweepOrphans(const std::string& containerd_socket, const std::string& ns) {
  Status first = okStatus();
  std::error_code ec;
  const fs::path runc_root = fs::path("/run/containerd/runc") / ns;
  for (const auto& entry : fs::directory_iterator(runc_root, ec)) {
    if (!entry.is_directory(ec)) {
      continue;
    }
    const std::vector<std::string> argv = {"runc", "--root", runc_root.string(), "delete",
                                           "--force", entry.path().filename().string()};
    std::fprintf(stderr, "bench_lifecycle: cleanup: %s\n", support::describeCommand(argv).c_str());
    keepFirst(first, commandSucceeded(argv, support::runCommand(argv, 30s)));
  }
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    pid_t pid = 0;
    const std::string name = entry.path().filename().string();
    const auto [ptr, parse_ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (parse_ec != std::errc() || ptr != name.data() + name.size() || pid <= 1) {
      continue;
    }
    std::string cmdline = readFile(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("containerd-shim") == std::string::npos ||
        cmdline.find(" -namespace " + ns + " ") == std::string::npos ||
        cmdline.find(" -address " + containerd_socket) == std::string::npos) {
      continue;
    }
    std::fprintf(stderr, "bench_lifecycle: cleanup: SIGKILL to orphaned shim pid %d\n",
                 static_cast<int>(pid));
    if (::kill(pid, SIGKILL) != 0 && errno != ESRCH) {
      keepFirst(first, sysError("kill shim pid " + std::to_string(pid), errno));
    }
  }
  // runc delete can leave the container's own cgroups (/<ns>/<id>) behind, empty: rmdir them
  // (it fails on a cgroup that still has processes or children). Killed processes leave
  // their cgroup only once they are gone, hence a few tries.
  for (int attempt = 0; attempt < 20; ++attempt) {
    bool left = false;
    for (const auto& controller : fs::directory_iterator("/sys/fs/cgroup", ec)) {
      for (const auto& leaf : fs::directory_iterator(controller.path() / ns, ec)) {
        if (leaf.is_directory(ec) && ::rmdir(leaf.path().c_str()) != 0 && errno != ENOENT) {
          left = true;
        }
      }
    }
    if (!left) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  return first;
}

void LifecycleBench::saveLogs() const {
  if (options_.save_logs.empty()) {
    return;
  }
  const fs::path dir = options_.save_logs;
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto copy = [&](const fs::path& from, const std::string& name) {
    std::error_code copy_ec;
    if (fs::exists(from, copy_ec)) {
      fs::copy_file(from, dir / name, fs::copy_options::overwrite_existing, copy_ec);
      if (copy_ec) {
        std::fprintf(stderr, "bench_lifecycle: save %s: %s\n", from.c_str(),
                     copy_ec.message().c_str());
      }
    }
  };
  if (work_) {
    copy(work_->path() / "contd" / "contd.log", "contd.log");
    copy(work_->path() / "contd-trace" / "contd.log", "contd-trace.log");
  }
  if (containerd_) {
    copy(containerd_->logPath(), "containerd.log");
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
    auto client = containerd::GrpcClient::connect(containerd_->socketPath(), 10s);
    for (const std::string& ns : {contd_ns_, ctr_ns_}) {
      const Status purged = client ? support::purgeNamespace(**client, ns) : Status(client.error());
      if (!purged) {
        std::fprintf(stderr, "bench_lifecycle: cleanup: purge of '%s': %s\n", ns.c_str(),
                     purged.error().message.c_str());
      }
    }
    client = Error{};  // close the channel before containerd goes
    keepFirst(first, containerd_->stop());
    for (const std::string& ns : {contd_ns_, ctr_ns_}) {
      keepFirst(first, sweepOrphans(containerd_->socketPath(), ns));
      keepFirst(first, support::removeHostLeftovers(ns));
    }
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

int benchMain(int argc, char** argv) {
  auto options = parseOptions(argc, argv);
  if (!options) {
    std::fprintf(stderr, "bench_lifecycle: %s\n%s", options.error().message.c_str(),
                 usage().c_str());
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
  if (!options->seccomp_profile.empty()) {
    options->seccomp_profile = fs::absolute(options->seccomp_profile).string();
  }
  std::string missing = support::missingContainerdPrerequisites();
  for (const std::string& program : {options->contd, options->contctl, options->ctr}) {
    if (!support::findOnPath(program)) {
      missing += (missing.empty() ? "needs " : ", ") + program + " (executable)";
    }
  }
  if (!missing.empty()) {
    std::fprintf(stderr, "bench_lifecycle: %s\n", missing.c_str());
    return kExitError;
  }
  // The containerd client used for setup and cleanup logs at info; keep the report clean.
  log::init("warn");
  installSignalHandlers();

  LifecycleBench bench(std::move(*options));
  Status status = bench.setUp();
  if (status) {
    status = bench.measure();
  }
  if (status) {
    status = bench.trace();
  }
  if (status) {
    bench.report();
  }
  Status cleaned = bench.cleanUp();
  if (!status) {
    std::fprintf(stderr, "bench_lifecycle: %s\n", status.error().message.c_str());
  }
  if (!cleaned) {
    std::fprintf(stderr, "bench_lifecycle: cleanup: %s\n", cleaned.error().message.c_str());
  }
  return status && cleaned ? 0 : kExitError;
}

}  // namespace
}  // namespace contd::bench

int main(int argc, char** argv) {
  try {
    return contd::bench::benchMain(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_lifecycle: unexpected error: %s\n", e.what());
    return 1;
  }
}
