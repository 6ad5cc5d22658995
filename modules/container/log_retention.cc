#include "modules/container/log_retention.h"

#include <algorithm>
#include <iterator>

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
  if (!moved) {
    return moved.error();
  }
  if (!*moved) {
    return okStatus();  // nothing to move
  }
  {
    std::lock_guard lock(mu_);
    if (scanning_) {
      added_while_scanning_.push_back(**moved);
    }
    kept_bytes_ += (*moved)->bytes;
    // Nearly always the newest; two Deletes at once may finish out of order.
    auto at = kept_.end();
    while (at != kept_.begin() && std::prev(at)->deleted_at > (*moved)->deleted_at) {
      --at;
    }
    kept_.insert(at, std::move(**moved));
    poked_ = true;
  }
  wake_.notify_all();
  return okStatus();
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

SweepResult LogRetention::sweep() { return sweepOnce(/*rescan=*/true); }

std::size_t LogRetention::scans() const {
  std::lock_guard lock(mu_);
  return scans_;
}

void LogRetention::rescan() {
  {
    std::lock_guard lock(mu_);
    scanning_ = true;
    added_while_scanning_.clear();
  }
  std::vector<RetiredLog> listed = listRetired(logs_.options().log_root);  // oldest first
  std::lock_guard lock(mu_);
  for (auto& added : added_while_scanning_) {
    const bool seen = std::any_of(listed.begin(), listed.end(),
                                  [&](const RetiredLog& r) { return r.folder == added.folder; });
    if (!seen) {
      listed.insert(std::upper_bound(listed.begin(), listed.end(), added,
                                     [](const RetiredLog& a, const RetiredLog& b) {
                                       return a.deleted_at < b.deleted_at;
                                     }),
                    std::move(added));
    }
  }
  added_while_scanning_.clear();
  scanning_ = false;
  kept_.assign(std::make_move_iterator(listed.begin()), std::make_move_iterator(listed.end()));
  kept_bytes_ = 0;
  for (const auto& retired : kept_) {
    kept_bytes_ += retired.bytes;
  }
  ++scans_;
}

SweepResult LogRetention::sweepOnce(bool rescan_first) {
  if (rescan_first) {
    rescan();
  }
  const RetentionLimits now_limits = limits();
  std::vector<RetiredLog> expired;
  {
    std::lock_guard lock(mu_);
    expired = takeExpired(kept_, &kept_bytes_, WallClock::now(), now_limits.max_age,
                          now_limits.max_bytes);
  }
  SweepResult result;
  for (const auto& retired : expired) {
    // One that cannot go stays on disk; the next rescan lists it again.
    result.removed += removeRetired(retired) ? 1 : 0;
  }
  {
    std::lock_guard lock(mu_);
    result.kept = kept_.size();
    result.kept_bytes = kept_bytes_;
  }
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
  bool rescan_next = true;  // at start: what is on disk
  while (!stopping_) {
    poked_ = false;
    lock.unlock();
    sweepOnce(rescan_next);
    lock.lock();
    // Woken by retire() or new limits: the list suffices. The interval: list the disk again.
    rescan_next = !wake_.wait_for(lock, sweepInterval(limits().max_age),
                                  [this] { return stopping_ || poked_; });
  }
}

}  // namespace contd::container
