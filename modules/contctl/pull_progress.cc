#include "modules/contctl/pull_progress.h"

#include <cstdio>

namespace contd::contctl {

namespace {

using Progress = v1::PullImageProgress;

const char* stateName(Progress::State state) {
  switch (state) {
    case Progress::RESOLVED: return "resolved";
    case Progress::WAITING: return "waiting";
    case Progress::CACHED: return "cached";
    case Progress::FETCHING: return "fetching";
    case Progress::FETCHED: return "fetched";
    case Progress::UNPACKED: return "unpacked";
    case Progress::DONE: return "done";
    default: return "?";
  }
}

// "sha256:" and the first 12 hex digits.
std::string shortDigest(const std::string& digest) { return digest.substr(0, 19); }

}  // namespace

std::string humanBytes(std::uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

std::vector<std::string> PullProgressView::update(const Progress& step) {
  if (step.state() == Progress::DONE || step.digest().empty()) {
    return {};
  }
  Row* row = nullptr;
  for (auto& candidate : rows_) {
    if (candidate.digest == step.digest()) {
      row = &candidate;
    }
  }
  if (row == nullptr) {
    rows_.push_back(Row{step.state() == Progress::RESOLVED ? "manifest"
                                                         : "layer " + std::to_string(++layers_),
                        step.digest()});
    row = &rows_.back();
  }
  const bool changed = row->state != step.state();
  row->state = step.state();
  row->offset = step.offset();
  row->total = step.total();
  if (!changed) {
    return {};
  }
  return {line(*row)};
}

std::vector<std::string> PullProgressView::render() const {
  std::vector<std::string> lines;
  for (const auto& row : rows_) {
    lines.push_back(line(row));
  }
  return lines;
}

std::string PullProgressView::line(const Row& row) const {
  char text[160];
  std::snprintf(text, sizeof(text), "%-9s %s…  %-9s", row.label.c_str(),
                shortDigest(row.digest).c_str(), stateName(row.state));
  std::string out = text;
  if (row.state == Progress::FETCHING || row.state == Progress::FETCHED) {
    out += humanBytes(row.offset) + " / " + humanBytes(row.total);
    if (row.total > 0) {
      out += "  " + std::to_string(row.offset * 100 / row.total) + "%";
    }
  } else if (row.state == Progress::CACHED || row.state == Progress::UNPACKED) {
    out += humanBytes(row.total);
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

}  // namespace contd::contctl
