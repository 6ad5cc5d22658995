#include "modules/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <spdlog/fmt/fmt.h>

namespace contd::metrics {
namespace {

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

bool isValidLabelName(std::string_view name) {
  return isValidMetricName(name) && name.find(':') == std::string_view::npos &&
         !name.starts_with("__") && name != "le";
}

// A broken invariant of the code that registers metrics: a bug, not an error value.
[[noreturn]] void badRegistration(const std::string& what) {
  std::fprintf(stderr, "metrics: bad registration: %s\n", what.c_str());
  std::abort();
}

// {a="x",b="y"} with `extra` (already formatted, e.g. le="0.5") appended; "" when empty.
std::string labelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     std::string_view extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + escapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) {
    out += out.empty() ? "{" : ",";
    out += extra;
  }
  return out.empty() ? out : out + "}";
}

void writeHistogram(std::string& out, const std::string& name, const Family<Histogram>& family) {
  family.forEach([&](const std::vector<std::string>& values, const Histogram& histogram) {
    const auto snap = histogram.snapshot();
    const auto& bounds = histogram.bounds();
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
      const std::string le =
          "le=\"" + (i < bounds.size() ? formatValue(bounds[i]) : std::string("+Inf")) + "\"";
      out += name + "_bucket" + labelSet(family.labelNames(), values, le) + " " +
             std::to_string(snap.cumulative[i]) + "\n";
    }
    const std::string labels = labelSet(family.labelNames(), values);
    out += name + "_sum" + labels + " " + formatValue(snap.sum) + "\n";
    out += name + "_count" + labels + " " + std::to_string(snap.cumulative.back()) + "\n";
  });
}

template <typename Series>
void writeSimple(std::string& out, const std::string& name, const Family<Series>& family) {
  family.forEach([&](const std::vector<std::string>& values, const Series& series) {
    out += name + labelSet(family.labelNames(), values) + " " + formatValue(series.value()) + "\n";
  });
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    badRegistration("histogram bounds must be strictly ascending");
  }
}

void Histogram::observe(double value) {
  // The first bound >= value: buckets count values <= their upper bound.
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snap.cumulative.push_back(running);
  }
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

std::vector<double> latencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

Registry::Entry& Registry::add(std::string name, std::string help, Type type,
                               const std::vector<std::string>& labels) {
  if (!isValidMetricName(name)) {
    badRegistration("metric name '" + name + "'");
  }
  for (const auto& label : labels) {
    if (!isValidLabelName(label)) {
      badRegistration("label name '" + label + "' of '" + name + "'");
    }
  }
  std::lock_guard lock(mu_);
  for (const auto& entry : entries_) {
    if (entry->name == name) {
      badRegistration("metric '" + name + "' registered twice");
    }
  }
  entries_.push_back(std::make_unique<Entry>(Entry{std::move(name), std::move(help), type}));
  return *entries_.back();
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labels) {
  auto& entry = add(std::move(name), std::move(help), Type::kCounter, labels);
  entry.counters = std::make_unique<Family<Counter>>(
      std::move(labels), [] { return std::make_unique<Counter>(); });
  return *entry.counters;
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labels) {
  auto& entry = add(std::move(name), std::move(help), Type::kGauge, labels);
  entry.gauges =
      std::make_unique<Family<Gauge>>(std::move(labels), [] { return std::make_unique<Gauge>(); });
  return *entry.gauges;
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> labels,
                                       std::vector<double> bounds) {
  Histogram check(bounds);  // aborts on bad bounds at registration, not at first use
  auto& entry = add(std::move(name), std::move(help), Type::kHistogram, labels);
  entry.histograms = std::make_unique<Family<Histogram>>(
      std::move(labels), [bounds] { return std::make_unique<Histogram>(bounds); });
  return *entry.histograms;
}

std::string Registry::exposition() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& entry : entries_) {
    static constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + entry->name + " " + escapeHelp(entry->help) + "\n";
    out += "# TYPE " + entry->name + " " +
           std::string(kTypeNames[static_cast<int>(entry->type)]) + "\n";
    switch (entry->type) {
      case Type::kCounter:
        writeSimple(out, entry->name, *entry->counters);
        break;
      case Type::kGauge:
        writeSimple(out, entry->name, *entry->gauges);
        break;
      case Type::kHistogram:
        writeHistogram(out, entry->name, *entry->histograms);
        break;
    }
  }
  return out;
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escapeHelp(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{:.0f}", value);
  }
  return fmt::format("{}", value);
}

bool isValidMetricName(std::string_view name) {
  return !name.empty() && isNameStart(name.front()) &&
         std::all_of(name.begin(), name.end(), isNameChar);
}

}  // namespace contd::metrics
