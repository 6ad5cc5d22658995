#pragma once
// The lifecycle benchmark (bench_lifecycle.cc has its command line and what it measures):
// its options, the variants and probes it times, and the LifecycleBench that drives them.
// lifecycle_setup.cc starts and removes the private containerd and contd,
// lifecycle_runs.cc times the Runs, Deletes and probes, lifecycle_report.cc prints,
// lifecycle_memory.cc measures and prints the memory of idle containers (--memory N).
//
// Threading: one thread (main's) drives a LifecycleBench.

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/result.h"
#include "modules/containerd/grpc_client.h"
#include "tests/bench/bench_proc.h"
#include "tests/bench/stats.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::bench::lifecycle {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;

// The fast path's targets (issue 12), ratios of medians against ctr.
constexpr double kRunTarget = 0.5;
constexpr double kDeleteTarget = 0.4;

// PID 1 of the container: exits at once on SIGTERM (a shell waiting in `wait` runs the trap
// straight away), so contd's graceful Delete costs what a cooperative container costs.
constexpr char kGracefulScript[] = "trap 'exit 0' TERM; while true; do sleep 1 & wait; done";
// The same loop ignoring SIGTERM, for the forced variant.
constexpr char kStubbornScript[] = "trap '' TERM; while true; do sleep 1 & wait; done";
// The forced variant's shutdown timeout: SIGKILL follows SIGTERM after this.
constexpr std::uint64_t kForcedShutdownMs = 1;

// The memory targets (issue 12) per idle container, KiB of PSS: the shim's share plus the
// log driver under kMemoryTargetKib, the log driver (holder + writer) at most kLogPairTargetKib.
constexpr std::uint64_t kMemoryTargetKib = 1024;
constexpr std::uint64_t kLogPairTargetKib = 256;

constexpr auto kCommandTimeout = 60s;
constexpr auto kCallTimeout = 60s;

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
  std::string runtime = "runc";      // contd's runtime (ctr always runs runc)
  std::string shim_group = "none";   // contd's shim_group
  bool levers = true;                // also the client under every lever's configuration
  int memory = 0;                    // > 0: the memory mode with that many containers a side
  int memory_settle_ms = 5000;       // pause after the last Run before memory is read
  bool help = false;
};

// ---- What is measured

enum class Variant { kContctl, kClient, kCtr, kForced };
constexpr std::array<Variant, 4> kVariants = {Variant::kContctl, Variant::kClient, Variant::kCtr,
                                              Variant::kForced};

// The container id prefix (also what the log parser filters on) and the report label.
std::string_view tagOf(Variant variant);
std::string_view labelOf(Variant variant);

// Costs around the calls themselves, measured in every round too.
enum class Probe { kSpawn, kContctlHelp, kContctlInspect, kClientInspect, kCtrFlag, kCtrVersion };
constexpr std::array<Probe, 6> kProbes = {Probe::kSpawn,         Probe::kContctlHelp,
                                          Probe::kContctlInspect, Probe::kClientInspect,
                                          Probe::kCtrFlag,        Probe::kCtrVersion};

std::string_view labelOf(Probe probe);

// ---- The fast path's levers (issue 12), each alone and all together: the gRPC client
// variant again under each configuration, switched by a reload (SIGHUP) before its Run.
// The precompiled filter is crun's (runc has no such input), so it is measured on crun.
struct ContdChoice {
  std::string runtime;     // config key runtime
  std::string shim_group;  // shim_group
  bool precompile = true;  // seccomp_precompile
  bool operator==(const ContdChoice&) const = default;
};

struct Lever {
  std::string_view tag;  // id prefix, distinct from the variants' tags
  std::string_view label;
  std::string_view runtime;
  std::string_view shim_group;
  bool precompile;

  ContdChoice choice() const {
    return {std::string(runtime), std::string(shim_group), precompile};
  }
};

constexpr std::array<Lever, 5> kLevers = {{
    {"lnone", "none: runc, a shim per container", "runc", "none", false},
    {"lcrun", "crun alone (crun compiles the filter)", "crun", "none", false},
    {"lbpf", "crun + the filter precompiled by contd", "crun", "none", true},
    {"lgrp", "shim group namespace alone (runc)", "runc", "namespace", false},
    {"lall", "all: crun, precompiled, grouped", "crun", "namespace", true},
}};

// One container of a round: a variant, or the client under kLevers[lever].
struct Slot {
  Variant variant = Variant::kClient;
  int lever = -1;
};

struct Samples {
  std::vector<double> run;
  std::vector<double> remove;
};

// ---- The memory mode

// What the idle containers of one side (contd or ctr) held, read at one moment.
struct MemoryPoint {
  int containers = 0;
  int shims = 0;       // distinct shim processes serving them (the parents of their inits)
  SmapsKib shim;       // those shims, summed
  SmapsKib keeper;     // contd's keeper container's process (shim group), else 0
  int log_pairs = 0;   // contd-shim-logs holders among the shims' children
  SmapsKib logs;       // the holders and their writers, summed
};

// The same side at half its containers and at all of them: the slope between the two is
// what each further container adds.
struct MemorySide {
  MemoryPoint half;
  MemoryPoint full;
};

// ---- The benchmark

class LifecycleBench {
public:
  explicit LifecycleBench(Options options);
  ~LifecycleBench();
  LifecycleBench(const LifecycleBench&) = delete;
  LifecycleBench& operator=(const LifecycleBench&) = delete;

  Status setUp();
  Status measure();
  Status trace();
  // The memory mode: N idle containers through ctr, then N through contd (N/2 first), and
  // their shims' and log drivers' memory at N/2 and N (lifecycle_memory.cc).
  Status measureMemory();
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
  std::vector<Slot> slots() const;
  std::string idOf(const Slot& slot, int index, bool measured) const;
  Result<double> runSlot(const Slot& slot, const std::string& id);
  // The choice of the base variants (options' runtime, shim group; the filter precompiled).
  ContdChoice baseChoice() const;
  Status writeConfig(const fs::path& path, const ContdChoice& choice) const;
  // Makes `choice` contd's configuration (a rewritten file and SIGHUP) and waits until Info
  // shows it in effect; an error when contd falls back (crun on a hybrid cgroup host).
  Status useChoice(const ContdChoice& choice);
  Status awaitChoice(const ContdChoice& choice);
  void settle() const;
  void saveLogs() const;
  Status startIdle(bool contd, int from, int to);
  Status removeCtrIdle(int count);
  Result<MemoryPoint> readMemory(containerd::GrpcClient& client, bool contd, int count) const;
  Result<MemorySide> memorySide(containerd::GrpcClient& client, bool contd);

  // The report's sections, in order.
  Summary summaryOf(Variant variant, bool run) const;
  void printSetting() const;
  void printLatencies() const;
  void printTargets() const;
  void printLevers() const;
  void printInsideContd() const;
  void printProbes() const;
  void printTrace() const;
  void printMemorySetting() const;
  void printMemory() const;
  void printMemoryTargets() const;

  Options options_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;

  std::optional<support::TempDir> work_;
  std::optional<support::BusyboxRootfs> rootfs_;
  std::unique_ptr<support::NetworkNamespace> netns_;
  std::unique_ptr<support::PrivateContainerd> containerd_;
  std::unique_ptr<support::ContdDaemon> contd_;
  fs::path contd_dir_;
  fs::path contd_config_;      // contd's config file, rewritten by useChoice
  ContdChoice contd_choice_;   // what contd runs containers with now
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
  std::array<Samples, kLevers.size()> lever_samples_;
  std::map<Probe, std::vector<double>> probes_;
  std::string measured_log_;  // contd's log of the measured rounds (info level)
  std::string traced_log_;    // contd's log of the traced round (debug level)
  std::vector<double> traced_run_;
  std::vector<double> traced_delete_;
  MemorySide contd_memory_;
  MemorySide ctr_memory_;
};

}  // namespace contd::bench::lifecycle
