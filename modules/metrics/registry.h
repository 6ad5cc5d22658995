#pragma once
// A registry of Prometheus metrics: counters, gauges and histograms, each a family with a
// fixed set of label names, and its text exposition (format 0.0.4, what node-exporter's
// textfile collector and Prometheus read). docs/metrics.md lists contd's metrics.
//
// Cheap on the hot path: a series is found once (a shared lock on its family's map) and
// then only touched through atomics; keep the reference a series returns to skip the
// lookup. Series are never removed, so references stay valid for the registry's life.
//
// Thread-safety: every member of every class here may be called from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace contd::metrics {

class Counter {
public:
  void inc(double by = 1.0) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0.0};
};

class Gauge {
public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0.0};
};

// Observations counted in buckets by upper bound (le); the exposition makes them cumulative
// and adds the +Inf bucket, _sum and _count.
class Histogram {
public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0.0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

private:
  std::vector<double> bounds_;  // ascending
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 (the last: +Inf)
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, 1 ms to 60 s: from a local socket round trip to a slow pull.
std::vector<double> latencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// One metric name with its label names and its series (one per set of label values).
template <typename Series>
class Family {
public:
  using Factory = std::function<std::unique_ptr<Series>()>;
  Family(std::vector<std::string> label_names, Factory factory)
      : label_names_(std::move(label_names)), factory_(std::move(factory)) {}

  // The series of these label values (as many as label names; missing ones are ""),
  // made on first use.
  Series& with(const std::vector<std::string_view>& values) {
    std::vector<std::string> key(label_names_.size());
    for (std::size_t i = 0; i < key.size() && i < values.size(); ++i) {
      key[i] = values[i];
    }
    {
      std::shared_lock read(mu_);
      if (auto it = series_.find(key); it != series_.end()) {
        return *it->second;
      }
    }
    std::unique_lock write(mu_);
    auto& slot = series_[std::move(key)];
    if (!slot) {
      slot = factory_();
    }
    return *slot;
  }
  Series& with() { return with(std::vector<std::string_view>{}); }

  const std::vector<std::string>& labelNames() const { return label_names_; }
  // Calls visit(label values, series) for each series, in label order.
  template <typename Visit>
  void forEach(Visit&& visit) const {
    std::shared_lock read(mu_);
    for (const auto& [values, series] : series_) {
      visit(values, *series);
    }
  }

private:
  std::vector<std::string> label_names_;
  Factory factory_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
};

class Registry {
public:
  // Each name is registered once; the returned family lives as long as the registry.
  // Names and label names must be valid Prometheus names (a bug otherwise: aborts).
  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help,
                               std::vector<std::string> labels, std::vector<double> bounds);

  // The text exposition of every family, in the order they were registered.
  std::string exposition() const;

private:
  struct Entry {
    std::string name;
    std::string help;
    Type type;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::unique_ptr<Family<Histogram>> histograms;
  };
  Entry& add(std::string name, std::string help, Type type,
             const std::vector<std::string>& labels);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

// Exposition helpers, public for the tests.
// A label value with \ " and newline escaped.
std::string escapeLabelValue(std::string_view value);
// A HELP text with \ and newline escaped.
std::string escapeHelp(std::string_view text);
// A sample value: integers without a fraction, +Inf, -Inf, NaN, else the shortest
// round-trip form.
std::string formatValue(double value);
bool isValidMetricName(std::string_view name);

}  // namespace contd::metrics
