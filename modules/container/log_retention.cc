#include "modules/container/log_retention.h"

#include <algorithm>

#include "modules/common/logging.h"

namespace contd::container {
namespace {

using namespace std::chrono_literals;

std::chrono::milliseconds sweepInterval(std::chrono::milliseconds max_age) {
  return std::clamp<std::chrono::milliseconds>(max_age / 4, 1s, 60s);
}

}  // namespace

LogRetention::LogRetention(const LogFiles& logs, RetentionLimits limits)
    : logs_(logs), max_age_ms_(limits.max_age.count()), max_bytes_(limits.max_bytes) {}

LogRetention::~LogRetention() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sweeper_.joinable()) {
    sweeper_.join();
  }
}

Status LogRetention::retire(std::string_view ns, std::string_view name) {
  auto moved = retireFiles(logs_.options().log_root, ns, name, logs_.existingFiles(ns, name),
                           WallClock::now());
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
  return moved;
}

std::optional<RetiredLog> LogRetention::newest(std::string_view ns, std::string_view name) const {
  return newestRetired(logs_.options().log_root, ns, name);
}

WallClock::time_point LogRetention::keptUntil(WallClock::time_point deleted_at) const {
  return deleted_at + limits().max_age;
}

void LogRetention::setLimits(RetentionLimits limits) {
  max_age_ms_ = limits.max_age.count();
  max_bytes_ = limits.max_bytes;
  {
    std::lock_guard lock(mu_);
    poked_ = true;  // the new limits apply now, not after the old interval
  }
  wake_.notify_all();
}

RetentionLimits LogRetention::limits() const {
  return {.max_age = std::chrono::milliseconds(max_age_ms_.load()), .max_bytes = max_bytes_.load()};
}

SweepResult LogRetention::sweep() {
  const RetentionLimits now_limits = limits();
  const SweepResult result = sweepRetired(logs_.options().log_root, WallClock::now(),
                                          now_limits.max_age, now_limits.max_bytes);
  if (result.removed > 0) {
    log::container()->info("log retention removed={} kept={} kept_bytes={}", result.removed,
                           result.kept, result.kept_bytes);
  }
  return result;
}

void LogRetention::start() {
  std::lock_guard lock(mu_);
  if (!sweeper_.joinable() && !stopping_) {
    sweeper_ = std::thread([this] { loop(); });
  }
}

void LogRetention::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    poked_ = false;
    lock.unlock();
    sweep();
    lock.lock();
    wake_.wait_for(lock, sweepInterval(limits().max_age), [this] { return stopping_ || poked_; });
  }
}

}  // namespace contd::container
