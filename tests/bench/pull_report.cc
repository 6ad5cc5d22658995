// The pull benchmark's report: the setting, the wall times of contd and ctr side by side,
// contd's memory and the bytes fetched, CPU time, the target, and the traced pull's phases.

#include <algorithm>
#include <cstdio>
#include <map>

#include "tests/bench/pull_bench.h"

#ifndef CONTD_BENCH_BUILD_TYPE
#define CONTD_BENCH_BUILD_TYPE ""
#endif

namespace contd::bench::pull {

namespace {

std::string row(const std::vector<std::pair<std::string, std::size_t>>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    line += i < 2 ? padRight(cells[i].first, cells[i].second)
                  : padLeft(cells[i].first, cells[i].second);
  }
  return line;
}

std::string count(std::uint64_t n) { return std::to_string(n); }

// When the traced pull's steps arrived (ms from the call).
struct TracePhases {
  double resolved = 0;
  double last_fetched = 0;
  double last_unpacked = 0;
  double done = 0;
  std::map<std::size_t, std::pair<double, double>> layer_times;  // fetched, unpacked
};

TracePhases phasesOf(const Trace& t) {
  TracePhases p;
  std::map<std::string, std::size_t> layer_of;
  for (const TraceStep& s : t.steps) {
    using P = v1::PullImageProgress;
    if (s.state == P::RESOLVED && p.resolved == 0) {
      p.resolved = s.ms;
    } else if (s.state == P::WAITING || s.state == P::FETCHED || s.state == P::UNPACKED) {
      const std::size_t layer = layer_of.emplace(s.digest, layer_of.size() + 1).first->second;
      if (s.state == P::FETCHED) {
        p.layer_times[layer].first = s.ms;
        p.last_fetched = std::max(p.last_fetched, s.ms);
      } else if (s.state == P::UNPACKED) {
        p.layer_times[layer].second = s.ms;
        p.last_unpacked = std::max(p.last_unpacked, s.ms);
      }
    } else if (s.state == P::DONE) {
      p.done = s.ms;
    }
  }
  return p;
}

// The highest sampled RSS from `from` to `to` ms.
double rssMax(const Trace& t, double from, double to) {
  double max = 0;
  for (const RssSample& s : t.rss) {
    if (s.ms >= from && s.ms <= to) {
      max = std::max(max, s.mib);
    }
  }
  return max;
}

// The columns of the wall-time table.
const std::vector<std::size_t> kTimeWidths = {8, 7, 7, 10, 10, 8, 11, 10, 12};
// The columns of the memory table.
const std::vector<std::size_t> kMemoryWidths = {8, 7, 8, 8, 8, 8, 18, 18, 10};

}  // namespace

void PullBench::report() const {
  std::printf("\ncontd pull benchmark\n");
  printRule();
  printSetting();
  printRule();
  const std::vector<Medians> m = medians();
  printTimes(m);
  printRule();
  printMemory(m);
  printRule();
  printCpu(m);
  printRule();
  printTargets(m);
  printRule();
  if (!trace_) {
    return;
  }
  printTrace();
  printRule();
}

void PullBench::printSetting() const {
  printMachine(versions_, load_before_, load_after_);
  const std::string build_type = CONTD_BENCH_BUILD_TYPE;
  printBuildType(build_type);
  if (build_type != "Release" && build_type != "RelWithDebInfo") {
    std::printf("WARNING: not an optimized build; these are not the figures of a release\n");
  }
  for (const PushedImage& image : images_) {
    std::printf("%-6s %s: %d layers x %s MiB of random bytes, tar+gzip; blobs fetched by a "
                "full pull: %zu, %s bytes (%s MiB)\n",
                image.spec.label.c_str(), image.ref.c_str(), image.spec.layers,
                format1(mib(image.spec.layer_bytes)).c_str(), image.blob_count,
                count(image.blob_bytes).c_str(), format1(mib(image.blob_bytes)).c_str());
  }
  std::printf(
      "%d round(s) after %d warm-up round(s) of the small image; every pull into a fresh "
      "namespace,\nimage removed with a synchronous GC after each; contd first in odd rounds, "
      "ctr first in even ones.\ncontd: contctl pull (%d parallel layer fetches); ctr: images "
      "pull --plain-http%s\n",
      options_.rounds, options_.warmup, kContdParallelFetches,
      options_.ctr_downloads > 0
          ? (" --max-concurrent-downloads " + std::to_string(options_.ctr_downloads)).c_str()
          : " (no download limit)");
}

std::vector<Medians> PullBench::medians() const {
  std::vector<Medians> medians(images_.size());
  for (std::size_t i = 0; i < images_.size(); ++i) {
    std::vector<double> contd, ctr, logged, cached, ctr_unpack, idle, peak, after, growth,
        contd_cpu, contctl_cpu, containerd_contd, registry_contd, ctr_cpu, containerd_ctr,
        registry_ctr;
    for (const RoundResult& r : results_) {
      if (r.image != i) {
        continue;
      }
      contd.push_back(r.contd.ms);
      ctr.push_back(r.ctr.ms);
      if (auto ms = contdLoggedMs(r.contd.ns)) {
        logged.push_back(*ms);
      }
      cached.push_back(r.cached.ms);
      if (r.ctr.unpack_ms) {
        ctr_unpack.push_back(*r.ctr.unpack_ms);
      }
      idle.push_back(r.contd.idle_mib);
      peak.push_back(r.contd.peak_mib);
      after.push_back(r.contd.after_mib);
      growth.push_back(r.contd.peak_mib - r.contd.idle_mib);
      contd_cpu.push_back(r.contd.contd_cpu_s);
      contctl_cpu.push_back(r.contd.contctl_cpu_s);
      containerd_contd.push_back(r.contd.containerd_cpu_s);
      registry_contd.push_back(r.contd.registry_cpu_s);
      ctr_cpu.push_back(r.ctr.ctr_cpu_s);
      containerd_ctr.push_back(r.ctr.containerd_cpu_s);
      registry_ctr.push_back(r.ctr.registry_cpu_s);
    }
    medians[i] = {summarize(contd),     summarize(ctr),         summarize(logged),
                  summarize(cached),    summarize(ctr_unpack),  summarize(idle),
                  summarize(peak),      summarize(after),       summarize(growth),
                  summarize(contd_cpu), summarize(contctl_cpu), summarize(containerd_contd),
                  summarize(registry_contd), summarize(ctr_cpu), summarize(containerd_ctr),
                  summarize(registry_ctr)};
  }
  return medians;
}

void PullBench::printTimes(const std::vector<Medians>& medians) const {
  std::printf("wall time (ms), spawn to exit; \"contd log\": contd's own op=pull time; "
              "cached: contd's second pull;\n\"ctr unpack\": the unpack phase of ctr's pull "
              "(its \"done:\" line; it fetches everything first)\n");
  const std::vector<std::size_t>& w = kTimeWidths;
  std::printf("%s\n", row({{"image", w[0]}, {"round", w[1]}, {"first", w[2]}, {"contd", w[3]},
                           {"ctr", w[4]}, {"ratio", w[5]}, {"contd log", w[6]},
                           {"cached", w[7]}, {"ctr unpack", w[8]}})
                          .c_str());
  for (const RoundResult& r : results_) {
    const auto logged = contdLoggedMs(r.contd.ns);
    std::printf("%s\n",
                row({{images_[r.image].spec.label, w[0]}, {std::to_string(r.round), w[1]},
                     {r.contd_first ? "contd" : "ctr", w[2]}, {formatMs(r.contd.ms), w[3]},
                     {formatMs(r.ctr.ms), w[4]}, {formatRatio(r.contd.ms, r.ctr.ms), w[5]},
                     {formatMs(logged.value_or(0), logged.has_value()), w[6]},
                     {formatMs(r.cached.ms), w[7]},
                     {formatMs(r.ctr.unpack_ms.value_or(0), r.ctr.unpack_ms.has_value()), w[8]}})
                    .c_str());
  }
  for (std::size_t i = 0; i < images_.size(); ++i) {
    const Medians& m = medians[i];
    std::printf("%s\n", row({{images_[i].spec.label, w[0]}, {"median", w[1]}, {"", w[2]},
                             {formatMs(m.contd.median), w[3]}, {formatMs(m.ctr.median), w[4]},
                             {formatRatio(m.contd.median, m.ctr.median), w[5]},
                             {formatMs(m.logged.median, m.logged.count > 0), w[6]},
                             {formatMs(m.cached.median), w[7]},
                             {formatMs(m.ctr_unpack.median, m.ctr_unpack.count > 0), w[8]}})
                            .c_str());
  }
}

void PullBench::printMemory(const std::vector<Medians>& medians) const {
  std::printf("contd's RSS (MiB): idle = VmRSS before the pull, peak = VmHWM reset just "
              "before it%s,\nafter = VmRSS after it; blob bytes fetched, from the registry's "
              "access log (GETs in brackets)\n",
              hwm_reset_works_ ? "" : " (NOT reset: lifetime peak)");
  const std::vector<std::size_t>& m_w = kMemoryWidths;
  std::printf("%s\n", row({{"image", m_w[0]}, {"round", m_w[1]}, {"idle", m_w[2]},
                           {"peak", m_w[3]}, {"growth", m_w[4]}, {"after", m_w[5]},
                           {"contd", m_w[6]}, {"ctr", m_w[7]}, {"cached", m_w[8]}})
                          .c_str());
  auto bytes = [](std::uint64_t n, std::size_t gets) {
    return count(n) + " (" + std::to_string(gets) + ")";
  };
  for (const RoundResult& r : results_) {
    std::printf("%s\n",
                row({{images_[r.image].spec.label, m_w[0]}, {std::to_string(r.round), m_w[1]},
                     {format1(r.contd.idle_mib), m_w[2]}, {format1(r.contd.peak_mib), m_w[3]},
                     {format1(r.contd.peak_mib - r.contd.idle_mib), m_w[4]},
                     {format1(r.contd.after_mib), m_w[5]},
                     {bytes(r.contd.fetched, r.contd.gets), m_w[6]},
                     {bytes(r.ctr.fetched, r.ctr.gets), m_w[7]},
                     {bytes(r.cached.fetched, r.cached.gets), m_w[8]}})
                    .c_str());
  }
  for (std::size_t i = 0; i < images_.size(); ++i) {
    const Medians& m = medians[i];
    std::printf("%s\n", row({{images_[i].spec.label, m_w[0]}, {"median", m_w[1]},
                             {format1(m.idle.median), m_w[2]}, {format1(m.peak.median), m_w[3]},
                             {format1(m.growth.median), m_w[4]},
                             {format1(m.after.median), m_w[5]}})
                            .c_str());
  }
  std::printf("contd when it had just started: VmRSS %s MiB (%s)\n%s\n",
              format1(started_mib_).c_str(), started_state_.c_str(), end_state_.c_str());
}

void PullBench::printCpu(const std::vector<Medians>& medians) const {
  std::printf("CPU seconds per pull (medians): the client process, and the daemons and the "
              "registry during the pull\n");
  for (std::size_t i = 0; i < images_.size(); ++i) {
    const Medians& m = medians[i];
    std::printf("%-6s contd: contd %.2f + contctl %.2f + containerd %.2f + registry %.2f\n"
                "%-6s ctr:   ctr %.2f + containerd %.2f + registry %.2f\n",
                images_[i].spec.label.c_str(), m.contd_cpu.median, m.contctl_cpu.median,
                m.containerd_contd.median, m.registry_contd.median, "", m.ctr_cpu.median,
                m.containerd_ctr.median, m.registry_ctr.median);
  }
}

void PullBench::printTargets(const std::vector<Medians>& medians) const {
  // The target: peak RSS under 64 MiB, and flat with layer size.
  double worst_peak = 0;
  bool same_bytes = true;
  for (const RoundResult& r : results_) {
    worst_peak = std::max(worst_peak, r.contd.peak_mib);
    const PushedImage& image = images_[r.image];
    same_bytes = same_bytes && r.contd.fetched == image.blob_bytes &&
                 r.ctr.fetched == image.blob_bytes && r.cached.fetched == 0;
  }
  std::printf("target: contd's peak RSS during a pull < %.0f MiB: highest %s MiB: %s\n",
              kPeakRssTargetMib, format1(worst_peak).c_str(),
              worst_peak < kPeakRssTargetMib ? "met" : "MISSED");
  if (images_.size() == 2) {
    const double big = medians[0].growth.median;
    const double small = medians[1].growth.median;
    std::printf("flat with layer size: median growth over idle %s MiB with %s MiB layers, "
                "%s MiB with %s MiB layers (difference %s MiB)\n",
                format1(big).c_str(), format1(mib(images_[0].spec.layer_bytes)).c_str(),
                format1(small).c_str(), format1(mib(images_[1].spec.layer_bytes)).c_str(),
                format1(big - small).c_str());
  }
  std::printf("bytes: every contd and ctr pull fetched exactly the image's blobs, every cached "
              "pull none: %s\n",
              same_bytes ? "yes" : "NO (see the table)");
}

void PullBench::printTrace() const {
  const Trace& t = *trace_;
  std::printf("traced pull: %s through contd's gRPC API into a fresh namespace (ms from the "
              "call; RSS sampled every %lld ms)\n",
              images_.front().ref.c_str(),
              static_cast<long long>(kRssSampleInterval.count()));
  const TracePhases p = phasesOf(t);
  std::printf("  manifest resolved                    %10s\n", formatMs(p.resolved).c_str());
  for (const auto& [layer, times] : p.layer_times) {
    std::printf("  layer %-3zu fetched %10s   unpacked %10s\n", layer,
                formatMs(times.first).c_str(), formatMs(times.second).c_str());
  }
  std::printf("  all layers fetched                   %10s   RSS max until then %s MiB\n",
              formatMs(p.last_fetched).c_str(), format1(rssMax(t, 0, p.last_fetched)).c_str());
  std::printf("  all layers unpacked                  %10s   RSS max in between %s MiB\n",
              formatMs(p.last_unpacked).c_str(),
              format1(rssMax(t, p.last_fetched, p.last_unpacked)).c_str());
  std::printf("  done (image registered)              %10s\n", formatMs(p.done).c_str());
  std::printf("  phases: resolve %s, fetch %s (all layers, %d at a time; unpacking overlaps "
              "it), unpack after the last fetch %s, register %s\n",
              formatMs(p.resolved).c_str(), formatMs(p.last_fetched - p.resolved).c_str(),
              kContdParallelFetches, formatMs(p.last_unpacked - p.last_fetched).c_str(),
              formatMs(p.done - p.last_unpacked).c_str());
  std::printf("  stream ended                         %10s\n", formatMs(t.ms).c_str());
  std::printf("  contd RSS idle %s MiB, peak (VmHWM) %s MiB, sampled max %s MiB\n",
              format1(t.idle_mib).c_str(), format1(t.peak_mib).c_str(),
              format1(rssMax(t, 0, t.ms + 1)).c_str());
}

}  // namespace contd::bench::pull
