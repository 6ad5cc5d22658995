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
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "modules/common/logging.h"
#include "tests/bench/bench_options.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/pull_bench.h"
#include "tests/integration/support/require.h"

namespace contd::bench::pull {
namespace {

constexpr int kExitError = 1;

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

Status parseFlag(Options& options, std::string_view flag, std::string_view value) {
  if (flag == "--rounds") {
    return setInt(flag, value, options.rounds, 1, 1000);
  }
  if (flag == "--warmup") {
    return setInt(flag, value, options.warmup, 0, 100);
  }
  if (flag == "--layers") {
    return setInt(flag, value, options.layers, 1, 100);
  }
  if (flag == "--layer-mib") {
    return setInt(flag, value, options.big_layer_mib, 1, 1024);
  }
  if (flag == "--small-layer-mib") {
    return setInt(flag, value, options.small_layer_mib, 1, 1024);
  }
  if (flag == "--ctr-downloads") {
    return setInt(flag, value, options.ctr_downloads, 0, 100);
  }
  if (flag == "--trace") {
    auto on = parseOnOff(flag, value);
    if (!on) {
      return on.error();
    }
    options.trace = *on;
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
    return unknownOption(flag);
  }
  return okStatus();
}

// Fills in the defaults that depend on the machine; "" or what is missing to run.
std::string completeOptions(Options& options) {
  options.contd = orNextToSelf(options.contd, "contd");
  options.contctl = orNextToSelf(options.contctl, "contctl");
  std::string missing = support::missingContainerdPrerequisites();
  if (const std::string registry = support::missingRegistryPrerequisites(); !registry.empty()) {
    missing += (missing.empty() ? "" : ", ") + registry;
  }
  return addMissingPrograms(missing, {options.contd, options.contctl, options.ctr});
}

int benchMain(int argc, char** argv) {
  Options options;
  const Status parsed = parseFlags(argc, argv, &options.help,
                                   [&](std::string_view flag, std::string_view value) {
                                     return parseFlag(options, flag, value);
                                   });
  if (const ParseOutcome outcome = reportParse("bench_pull", parsed, options.help, usage());
      !outcome.proceed) {
    return outcome.exit_code;
  }
  if (const std::string missing = completeOptions(options); !missing.empty()) {
    std::fprintf(stderr, "bench_pull: %s\n", missing.c_str());
    return kExitError;
  }

  PullBench bench(std::move(options));
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
}  // namespace contd::bench::pull

int main(int argc, char** argv) {
  try {
    return contd::bench::pull::benchMain(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pull: unexpected error: %s\n", e.what());
    return 1;
  }
}
