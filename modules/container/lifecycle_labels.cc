#include "modules/container/lifecycle_labels.h"

#include <nlohmann/json.hpp>

namespace contd::container {
namespace {

std::optional<std::int64_t> parseInt(const std::string& text) {
  try {
    std::size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used != text.size()) {
      return std::nullopt;
    }
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string label(const containerd::Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

}  // namespace

Lifecycle lifecycleFrom(const containerd::Labels& labels) {
  Lifecycle lifecycle;
  lifecycle.stopping = label(labels, kStoppingLabel) == "true";
  lifecycle.health_kill = label(labels, kHealthKillLabel) == "true";
  const std::string state = label(labels, kStateLabel);
  if (state == "backing-off") {
    lifecycle.state = PolicyState::kBackingOff;
  } else if (state == "failed") {
    lifecycle.state = PolicyState::kFailed;
  } else if (state == "stopped") {
    lifecycle.state = PolicyState::kStopped;
  }
  lifecycle.next_retry = parseInt(label(labels, kNextRetryLabel)).value_or(0);
  auto restarts = parseInt(label(labels, kRestartsLabel)).value_or(0);
  lifecycle.restarts = restarts > 0 ? static_cast<std::uint32_t>(restarts) : 0;

  const auto exits = nlohmann::json::parse(label(labels, kExitsLabel), nullptr, false);
  if (exits.is_array()) {
    for (const auto& entry : exits) {
      if (!entry.is_object()) {
        continue;
      }
      Termination t;
      t.time = entry.value("t", std::int64_t{0});
      t.code = entry.value("code", std::int32_t{-1});
      t.oom_killed = entry.value("oom", false);
      t.unhealthy = entry.value("unhealthy", false);
      lifecycle.exits.push_back(t);
    }
  }
  return lifecycle;
}

containerd::Labels lifecycleLabels(const Lifecycle& lifecycle) {
  containerd::Labels labels;
  labels[kStoppingLabel] = lifecycle.stopping ? "true" : "";
  labels[kHealthKillLabel] = lifecycle.health_kill ? "true" : "";
  switch (lifecycle.state) {
    case PolicyState::kNone: labels[kStateLabel] = ""; break;
    case PolicyState::kBackingOff: labels[kStateLabel] = "backing-off"; break;
    case PolicyState::kFailed: labels[kStateLabel] = "failed"; break;
    case PolicyState::kStopped: labels[kStateLabel] = "stopped"; break;
  }
  labels[kNextRetryLabel] =
      lifecycle.state == PolicyState::kBackingOff ? std::to_string(lifecycle.next_retry) : "";
  labels[kRestartsLabel] = lifecycle.restarts > 0 ? std::to_string(lifecycle.restarts) : "";
  if (lifecycle.exits.empty()) {
    labels[kExitsLabel] = "";
  } else {
    auto exits = nlohmann::json::array();
    for (const auto& exit : lifecycle.exits) {
      auto entry = nlohmann::json{{"t", exit.time}, {"code", exit.code}, {"oom", exit.oom_killed}};
      if (exit.unhealthy) {
        entry["unhealthy"] = true;
      }
      exits.push_back(std::move(entry));
    }
    labels[kExitsLabel] = exits.dump();
  }
  return labels;
}

void addExit(Lifecycle& lifecycle, const Termination& exit) {
  lifecycle.exits.push_back(exit);
  if (lifecycle.health_kill) {
    lifecycle.exits.back().unhealthy = true;
    lifecycle.health_kill = false;
  }
  if (lifecycle.exits.size() > kMaxExits) {
    lifecycle.exits.erase(lifecycle.exits.begin(),
                          lifecycle.exits.end() - static_cast<std::ptrdiff_t>(kMaxExits));
  }
}

}  // namespace contd::container
