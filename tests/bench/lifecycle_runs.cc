// The lifecycle benchmark's measurements: one container of every variant per round, run
// and deleted in shuffled order, the probes of process and connection costs, and the traced
// round with contd at debug level.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "tests/bench/bench_util.h"
#include "tests/bench/lifecycle_bench.h"
#include "tests/integration/support/run_command.h"

namespace contd::bench::lifecycle {

namespace {

Error grpcError(std::string_view what, const grpc::Status& status) {
  return internalError(std::string(what) + ": gRPC code " +
                       std::to_string(static_cast<int>(status.error_code())) + ": " +
                       status.error_message());
}

}  // namespace

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
  std::vector<Slot> order = slots();
  std::shuffle(order.begin(), order.end(), rng_);
  auto samplesOf = [&](const Slot& slot) -> Samples& {
    return slot.lever >= 0 ? lever_samples_[slot.lever] : samples_[slot.variant];
  };
  for (const Slot& slot : order) {
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    const std::string id = idOf(slot, index, measured);
    auto ms = runSlot(slot, id);
    if (!ms) {
      return ms.error().wrap("run " + id);
    }
    if (measured) {
      samplesOf(slot).run.push_back(*ms);
    }
  }
  // The shells set their trap within a millisecond or two of starting; the pause keeps a
  // Delete from racing it (a SIGTERM before the trap would be ignored by PID 1).
  settle();
  std::shuffle(order.begin(), order.end(), rng_);
  for (const Slot& slot : order) {
    CONTD_RETURN_IF_ERROR(checkInterrupted());
    const std::string id = idOf(slot, index, measured);
    auto ms = slot.lever >= 0 ? clientDelete(id) : removeContainer(slot.variant, id);
    if (!ms) {
      return ms.error().wrap("delete " + id);
    }
    if (measured) {
      samplesOf(slot).remove.push_back(*ms);
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

}  // namespace contd::bench::lifecycle
