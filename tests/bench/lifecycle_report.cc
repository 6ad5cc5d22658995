// The lifecycle benchmark's report: the setting, the latency table of the four variants
// side by side with ctr, the targets, what contd logged of the calls, the probes of process
// and connection costs, and the steps of the traced round.

#include <algorithm>
#include <cstdio>
#include <map>

#include "tests/bench/lifecycle_bench.h"
#include "tests/bench/trace_log.h"

#ifndef CONTD_BENCH_BUILD_TYPE
#define CONTD_BENCH_BUILD_TYPE ""
#endif

namespace contd::bench::lifecycle {

namespace {

constexpr std::size_t kLabel = 42;
constexpr std::size_t kCol = 8;

// A label and two groups of three cells (Run, Delete).
void row(const std::string& label, const std::vector<std::string>& cells) {
  std::string line = padRight(label, kLabel);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    line += padLeft(cells[i], kCol);
    if (i == 2) {
      line += "   ";
    }
  }
  std::printf("%s\n", line.c_str());
}

std::string verdict(double contd, double ctr, double target) {
  return ctr > 0 && contd / ctr <= target ? std::string("met") : std::string("MISSED");
}

}  // namespace

Summary LifecycleBench::summaryOf(Variant variant, bool run) const {
  const auto it = samples_.find(variant);
  return it == samples_.end() ? Summary{} : summarize(run ? it->second.run : it->second.remove);
}

void LifecycleBench::report() const {
  if (options_.memory > 0) {
    std::printf("\ncontd memory per idle container\n");
    printRule();
    printMemorySetting();
    printBuildType(CONTD_BENCH_BUILD_TYPE);
    printRule();
    printMemory();
    printRule();
    return;
  }
  std::printf("\ncontd lifecycle benchmark\n");
  printRule();
  printSetting();
  printRule();
  printLatencies();
  printRule();
  printTargets();
  printRule();
  if (options_.levers) {
    printLevers();
    printRule();
  }
  printInsideContd();
  printRule();
  printProbes();
  printRule();
  if (options_.trace == 0 || traced_log_.empty()) {
    return;
  }
  printTrace();
  printRule();
}

void LifecycleBench::printSetting() const {
  printMachine(versions_, load_before_, load_after_);
  printBuildType(CONTD_BENCH_BUILD_TYPE);
  std::printf(
      "%d containers per variant after %d warm-up round(s); per round one container of each\n"
      "variant is run in shuffled order (seed %llu), then after %d ms deleted in shuffled order.\n",
      options_.count, options_.warmup, static_cast<unsigned long long>(seed_), options_.settle_ms);
  std::printf("contd: runtime %s, shim group %s, the seccomp filter precompiled for crun;\n"
              "ctr: runc, a shim per container%s\n",
              options_.runtime.c_str(), options_.shim_group.c_str(),
              options_.levers ? "; the levers below: each its own configuration" : "");
  std::printf("command: /bin/sh -c \"%s\"; IO: contd binary:// (contd-shim-logs), ctr %s;\n"
              "contd shutdown timeout %llu ms; seccomp: %s\n",
              kGracefulScript, options_.ctr_io == "file" ? "file:// (--log-uri)" : "fifos",
              static_cast<unsigned long long>(options_.shutdown_timeout_ms),
              !options_.seccomp ? "off for both"
              : options_.seccomp_profile.empty()
                  ? "contd's default profile, ctr --seccomp"
                  : ("contd " + fs::path(options_.seccomp_profile).filename().string() +
                     ", ctr --seccomp")
                        .c_str());
}

void LifecycleBench::printLatencies() const {
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
}

void LifecycleBench::printTargets() const {
  const Summary ctr_run = summaryOf(Variant::kCtr, true);
  const Summary ctr_del = summaryOf(Variant::kCtr, false);
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
}

void LifecycleBench::printInsideContd() const {
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
}

void LifecycleBench::printProbes() const {
  std::printf("process and connection costs (median, p90 in ms; %d samples each)\n", options_.count);
  for (Probe p : kProbes) {
    const auto it = probes_.find(p);
    const Summary s = it == probes_.end() ? Summary{} : summarize(it->second);
    std::printf("%s%s%s\n", padRight(std::string(labelOf(p)), 58).c_str(),
                padLeft(formatMs(s.median, s.count > 0), kCol).c_str(),
                padLeft(formatMs(s.p90, s.count > 0), kCol).c_str());
  }
}

void LifecycleBench::printTrace() const {
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
}

}  // namespace contd::bench::lifecycle
