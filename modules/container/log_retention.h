#pragma once
// Log retention (docs/logs.md#retention): a deleted container's log is moved aside
// (retired_logs.h) and kept until it is `max_age` old or the kept logs together need its
// room (`max_bytes`, oldest first). A new container of the name starts a fresh log.
//
// Thread-safety: every method may be called from any thread. retire() for one name is
// serialised by the caller (the container's lock). The sweeper thread (start()) applies the
// limits at once, then every max_age / 4 (1 s to 60 s) and soon after each retire().
//
// Cost: the kept logs are listed from disk at start and at each interval (which also finds
// what changed behind contd's back); in between they are known from an in-memory list,
// oldest first, to which retire() appends. So the sweep after a Delete takes only what has
// expired off its front, whatever the number of kept logs (a container per request makes
// many).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "modules/container/defaults.h"
#include "modules/container/log_files.h"
#include "modules/container/retired_logs.h"

namespace contd::container {

struct RetentionLimits {
  std::chrono::milliseconds max_age = kDefaultLogRetention;  // 0: none kept
  std::uint64_t max_bytes = kDefaultLogRetentionSize;        // 0: none kept
};

class LogRetention {
public:
  LogRetention(const LogFiles& logs, RetentionLimits limits);
  ~LogRetention();  // stops the sweeper
  LogRetention(const LogRetention&) = delete;
  LogRetention& operator=(const LogRetention&) = delete;

  // Moves the log files of `name` (a container deleted just now, or an earlier one whose
  // log was left in place) aside; nothing to move is fine. Wakes the sweeper.
  Status retire(std::string_view ns, std::string_view name);
  // The newest kept log of a deleted container of the name.
  std::optional<RetiredLog> newest(std::string_view ns, std::string_view name) const;
  // Until when a log retired at `deleted_at` is kept at most (the size limit may end it
  // sooner).
  WallClock::time_point keptUntil(WallClock::time_point deleted_at) const;

  void setLimits(RetentionLimits limits);
  RetentionLimits limits() const;
  // Lists the kept logs from disk and applies the limits now, on the caller's thread.
  SweepResult sweep();
  // How many times the kept logs were listed from disk (for tests).
  std::size_t scans() const;
  // Starts the sweeper thread (once; later calls do nothing).
  void start();

private:
  void loop();
  // Applies the limits to the in-memory list, after listing the folders again if `rescan`.
  SweepResult sweepOnce(bool rescan);
  void rescan();

  const LogFiles& logs_;
  std::atomic<std::int64_t> max_age_ms_;
  std::atomic<std::uint64_t> max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool poked_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  // The kept logs, oldest first, and their sizes; guarded by mu_.
  std::deque<RetiredLog> kept_;
  std::uint64_t kept_bytes_ = 0;
  // While a rescan lists the folders: what retire() added meanwhile; guarded by mu_.
  bool scanning_ = false;
  std::vector<RetiredLog> added_while_scanning_;
  std::size_t scans_ = 0;  // guarded by mu_
  std::thread sweeper_;
};

}  // namespace contd::container
