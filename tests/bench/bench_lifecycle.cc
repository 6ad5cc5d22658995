// bench_lifecycle: how long Run and Delete take through contd, compared with containerd's
// own ctr, all against one private containerd that the benchmark starts itself.
//
// A benchmark, not a test: it prints figures and whether the targets of issue 12 are met
// (contd Run <= 0.5x ctr's, Delete <= 0.4x, contctl Run <= 0.8x), and fails only when it
// cannot measure. What each number includes: docs/benchmarks.md.
//
// Variants, one container of each per round, in an order shuffled per round:
//   contctl  `contctl run` / `contctl rm`: a new process (and gRPC channel) per call
//   client   contd's gRPC API through one persistent channel (contd::v1::Containers stub)
//   ctr      `ctr run -d --rootfs` / `ctr task rm -f` + `ctr container rm`
//   forced   the gRPC client again, with a 1 ms shutdown timeout and a command that ignores
//            SIGTERM: contd's Delete when it has to SIGKILL, like `ctr task rm -f` always does
//   levers   the gRPC client again under each fast-path lever alone and all together
//            (lifecycle_levers.cc; --levers off leaves them out)
// With --memory N it measures memory instead of time: N idle containers through ctr, then N
// through contd, and the PSS of the shims and log drivers serving them per container, at
// N/2 and N (lifecycle_memory.cc), against the memory targets.
// Needs root, containerd, runc, ctr, ip and busybox-static.
//
// Exit status: 0 measured (targets met or not), 1 could not measure, 2 usage error.

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "modules/common/logging.h"
#include "tests/bench/bench_options.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/lifecycle_bench.h"
#include "tests/integration/support/require.h"

namespace contd::bench::lifecycle {
namespace {

constexpr int kExitError = 1;

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
         "  --runtime NAME        contd's runtime: runc (default), crun or a path (ctr: runc)\n"
         "  --shim-group MODE     contd's shim grouping: none (default) or namespace\n"
         "  --levers on|off       also run the gRPC client under each lever's configuration\n"
         "                        (runc; crun; crun + precompiled filter; shim group; all),\n"
         "                        switched by reloads (default on; crun must be usable)\n"
         "  --memory N            measure memory instead of time: N idle containers through\n"
         "                        ctr, then N through contd; PSS of their shims and log\n"
         "                        drivers per container, read at N/2 and N (N >= 2)\n"
         "  --memory-settle MS    pause after the last Run before memory is read (default 5000)\n"
         "  --seed N              seed of the per-round shuffle (default: random, printed)\n"
         "  --save-logs DIR       copy contd's and containerd's logs to DIR at the end\n"
         "  --help                this text\n";
}

Status parseFlag(Options& options, std::string_view flag, std::string_view value) {
  if (flag == "--count") {
    return setInt(flag, value, options.count, 1);
  }
  if (flag == "--warmup") {
    return setInt(flag, value, options.warmup, 0);
  }
  if (flag == "--trace") {
    return setInt(flag, value, options.trace, 0);
  }
  if (flag == "--settle") {
    return setInt(flag, value, options.settle_ms, 0);
  }
  if (flag == "--memory") {
    return setInt(flag, value, options.memory, 2);
  }
  if (flag == "--memory-settle") {
    return setInt(flag, value, options.memory_settle_ms, 0);
  }
  if (flag == "--shutdown-timeout") {
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
    auto on = parseOnOff(flag, value);
    if (!on) {
      return on.error();
    }
    options.seccomp = *on;
  } else if (flag == "--levers") {
    auto on = parseOnOff(flag, value);
    if (!on) {
      return on.error();
    }
    options.levers = *on;
  } else if (flag == "--seccomp-profile") {
    options.seccomp_profile = value;
  } else if (flag == "--runtime") {
    options.runtime = value;
  } else if (flag == "--shim-group") {
    if (value != "none" && value != "namespace") {
      return invalidArgument("--shim-group '" + std::string(value) + "': expected none or namespace");
    }
    options.shim_group = value;
  } else if (flag == "--contd") {
    options.contd = value;
  } else if (flag == "--contctl") {
    options.contctl = value;
  } else if (flag == "--ctr") {
    options.ctr = value;
  } else if (flag == "--save-logs") {
    options.save_logs = value;
  } else {
    return unknownOption(flag);
  }
  return okStatus();
}

// Fills in the defaults that depend on the machine; "" or what is missing to run.
std::string completeOptions(Options& options) {
  options.contd = orNextToSelf(options.contd, "contd");
  options.contctl = orNextToSelf(options.contctl, "contctl");
  if (!options.seccomp_profile.empty()) {
    options.seccomp_profile = fs::absolute(options.seccomp_profile).string();
  }
  return addMissingPrograms(support::missingContainerdPrerequisites(),
                            {options.contd, options.contctl, options.ctr});
}

int benchMain(int argc, char** argv) {
  Options options;
  const Status parsed = parseFlags(argc, argv, &options.help,
                                   [&](std::string_view flag, std::string_view value) {
                                     return parseFlag(options, flag, value);
                                   });
  if (const ParseOutcome outcome = reportParse("bench_lifecycle", parsed, options.help, usage());
      !outcome.proceed) {
    return outcome.exit_code;
  }
  if (const std::string missing = completeOptions(options); !missing.empty()) {
    std::fprintf(stderr, "bench_lifecycle: %s\n", missing.c_str());
    return kExitError;
  }
  // The containerd client used for setup and cleanup logs at info; keep the report clean.
  log::init("warn");
  installSignalHandlers();

  const bool memory = options.memory > 0;
  LifecycleBench bench(std::move(options));
  Status status = bench.setUp();
  if (status) {
    status = memory ? bench.measureMemory() : bench.measure();
  }
  if (status && !memory) {
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
}  // namespace contd::bench::lifecycle

int main(int argc, char** argv) {
  try {
    return contd::bench::lifecycle::benchMain(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_lifecycle: unexpected error: %s\n", e.what());
    return 1;
  }
}
