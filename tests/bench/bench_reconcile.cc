// bench_reconcile: how long contd takes to come back with N running managed containers,
// and proof that it touched none of them.
//
// One private containerd, one contd; N busybox containers (default 100) started through
// contctl. Then contd is killed (SIGKILL) and started again, K times. Printed per restart:
//   ready     from the exec of contd until its API socket accepts a connection;
//   reconciled from the exec of contd until it logs "reconciled containers=N";
// and after all restarts, whether every container still has the pid it had at the start.
//
// Usage: bench_reconcile [--count N] [--restarts K]. Needs root, containerd, runc, ip,
// busybox-static. Exits 0 when it measured and no container was touched.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/containerd/grpc_client.h"
#include "tests/bench/bench_options.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/stats.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace {

namespace support = contd::testing;
using namespace std::chrono_literals;
using contd::bench::Clock;
using contd::bench::msSince;
using contd::bench::readFile;

struct Bench {
  std::unique_ptr<support::PrivateContainerd> containerd;
  std::optional<support::BusyboxRootfs> rootfs;
  std::unique_ptr<support::NetworkNamespace> netns;
  std::optional<support::TempDir> dir;
  std::unique_ptr<support::ContdDaemon> contd;
  std::string ns = support::uniqueName("bnrec");

  std::optional<support::CommandResult> contctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {CONTCTL_BIN, "--socket", contd->socketPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = support::runCommand(argv, 60s);
    if (!result) {
      return std::nullopt;
    }
    return *result;
  }

  std::map<std::string, long long> pids() {
    std::map<std::string, long long> out;
    auto ls = contctl({"--json", "ls", "-n", ns});
    if (!ls || ls->exit_code != 0) {
      return out;
    }
    auto json = nlohmann::json::parse(ls->out, nullptr, false);
    if (json.is_discarded()) {
      return out;
    }
    for (const auto& c : json.value("containers", nlohmann::json::array())) {
      if (c.value("status", "") == "RUNNING") {
        out[c["spec"]["name"].get<std::string>()] = c["pid"].get<long long>();
      }
    }
    return out;
  }

  ~Bench() {
    contd.reset();
    if (containerd) {
      if (auto client = contd::containerd::GrpcClient::connect(containerd->socketPath(), 5s)) {
        (void)support::purgeNamespace(**client, ns, 30s);
      }
    }
    containerd.reset();
    if (netns) {
      (void)netns->remove();
    }
  }
};

// Kills contd (SIGKILL) and starts it again `restarts` times: per restart the ms until its
// socket accepts, and until it logs that it reconciled `count` containers.
bool restartAll(Bench& bench, int count, int restarts, std::vector<double>& ready_ms,
                std::vector<double>& reconciled_ms) {
  const std::string marker = "reconciled containers=" + std::to_string(count);
  const auto log_path = bench.dir->path() / "contd.log";
  for (int r = 0; r < restarts; ++r) {
    (void)bench.contd->crash();
    std::ofstream(log_path, std::ios::trunc).close();
    const auto start = Clock::now();
    if (auto restarted = bench.contd->restart(); !restarted) {
      std::fprintf(stderr, "bench_reconcile: %s\n", restarted.error().message.c_str());
      return false;
    }
    ready_ms.push_back(msSince(start));
    while (readFile(log_path).find(marker) == std::string::npos && msSince(start) < 60'000) {
      std::this_thread::sleep_for(1ms);
    }
    reconciled_ms.push_back(msSince(start));
  }
  return true;
}

int run(int count, int restarts) {
  if (auto missing = support::missingContainerdPrerequisites(); !missing.empty()) {
    std::fprintf(stderr, "bench_reconcile: missing %s\n", missing.c_str());
    return 1;
  }
  Bench bench;
  auto containerd = support::PrivateContainerd::start();
  auto rootfs = support::BusyboxRootfs::build();
  auto netns = support::NetworkNamespace::create("bnrec");
  auto dir = support::TempDir::make("contd-bnrec");
  if (!containerd || !rootfs || !netns || !dir) {
    std::fprintf(stderr, "bench_reconcile: set-up failed\n");
    return 1;
  }
  bench.containerd = std::move(*containerd);
  bench.rootfs.emplace(std::move(*rootfs));
  bench.netns = std::move(*netns);
  bench.dir.emplace(std::move(*dir));
  support::ContdDaemon::Options options;
  options.binary = CONTD_BIN;
  options.containerd_socket = bench.containerd->socketPath();
  options.dir = bench.dir->path();
  auto daemon = support::ContdDaemon::start(options);
  if (!daemon) {
    std::fprintf(stderr, "bench_reconcile: %s\n", daemon.error().message.c_str());
    return 1;
  }
  bench.contd = std::move(*daemon);

  std::printf("starting %d containers...\n", count);
  for (int i = 0; i < count; ++i) {
    auto run = bench.contctl({"run", bench.ns, "c" + std::to_string(i), "--rootfs",
                              bench.rootfs->path().string(), "--netns", bench.netns->name(), "--",
                              "/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 60 & wait; done"});
    if (!run || run->exit_code != 0) {
      std::fprintf(stderr, "bench_reconcile: run failed: %s\n", run ? run->err.c_str() : "");
      return 1;
    }
  }
  const auto before = bench.pids();
  if (static_cast<int>(before.size()) != count) {
    std::fprintf(stderr, "bench_reconcile: %zu of %d running\n", before.size(), count);
    return 1;
  }

  std::vector<double> ready_ms, reconciled_ms;
  if (!restartAll(bench, count, restarts, ready_ms, reconciled_ms)) {
    return 1;
  }
  const auto after = bench.pids();
  const bool untouched = after == before;

  auto ready = contd::bench::summarize(ready_ms);
  auto reconciled = contd::bench::summarize(reconciled_ms);
  std::printf("\ncontd restart with %d running managed containers (%d restarts, kill -9 each)\n",
              count, restarts);
  std::printf("  API socket accepting:      median %s  min %s\n",
              contd::bench::formatMs(ready.median).c_str(),
              contd::bench::formatMs(ready.min).c_str());
  std::printf("  reconcile done (logged):   median %s  min %s\n",
              contd::bench::formatMs(reconciled.median).c_str(),
              contd::bench::formatMs(reconciled.min).c_str());
  std::printf("  containers with the same pid afterwards: %zu of %d -> %s\n",
              [&] {
                std::size_t same = 0;
                for (const auto& [name, pid] : before) {
                  auto it = after.find(name);
                  same += it != after.end() && it->second == pid;
                }
                return same;
              }(),
              count, untouched ? "none touched" : "SOME WERE TOUCHED");
  return untouched ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 100;
  int restarts = 5;
  bool help = false;
  const contd::Status parsed = contd::bench::parseFlags(
      argc, argv, &help, [&](std::string_view flag, std::string_view value) -> contd::Status {
        if (flag == "--count") {
          return contd::bench::setInt(flag, value, count, 1);
        }
        if (flag == "--restarts") {
          return contd::bench::setInt(flag, value, restarts, 1);
        }
        return contd::bench::unknownOption(flag);
      });
  const auto outcome = contd::bench::reportParse(
      "bench_reconcile", parsed, help, "usage: bench_reconcile [--count N] [--restarts K]\n");
  return outcome.proceed ? run(count, restarts) : outcome.exit_code;
}
