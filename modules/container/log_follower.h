#pragma once
// Following a container's log as contd-shim-logs writes and rotates it (Logs with follow).
//
// The follower holds the current file open and sleeps in poll(2) on an inotify fd that
// watches the file (IN_MODIFY: appended to) and its folder (IN_CREATE, IN_MOVED_TO: a new
// <id>.log after a rotation). The wait is bounded, so a caller checking for cancellation
// between waits notices it within that bound. Without inotify (the per-user instance limit
// reached) it checks the file once per wait instead.
//
// At rotation the held file is read to its end (its name changed, its content did not),
// then each newer file in turn, oldest first: nothing is lost or read twice, unless the
// follower fell more than max_files rotations behind (the files in between are gone then;
// it goes on with the newest).
//
// Thread-safety: a LogFollower is used by one thread.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "modules/common/result.h"
#include "modules/common/unique_fd.h"
#include "modules/container/held_log_files.h"
#include "modules/container/log_reader.h"

namespace contd::container {

// Receives one line; false when the reader is gone and following should stop.
using LogSink = std::function<bool(const LogLine&)>;

// How long one wait lasts at most: the delay before a cancellation is noticed.
inline constexpr std::chrono::milliseconds kFollowCheckEvery{150};

class LogFollower {
public:
  // Watches the log and holds its current file at its end (or waits for the file).
  explicit LogFollower(std::filesystem::path log_file);
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // The lines before the point where following starts, as readLog gives them for `query`
  // (with unfinished partials held back: the follower completes them). Once, first.
  Result<std::vector<LogLine>> backlog(const LogQuery& query);
  // Waits up to `timeout` for the log to change; appends the lines completed since the
  // last call (none when nothing changed).
  Status wait(std::chrono::milliseconds timeout, std::vector<LogLine>& out);
  // False when inotify could not be had: wait() then sleeps out its timeout.
  bool watching() const { return inotify_.valid(); }

private:
  void watchFolder();
  void watchHeld();
  void hold(UniqueFd fd, const FileId& id, std::uint64_t offset);
  bool readEvents();
  Status check(std::vector<LogLine>& out);
  Status drain(std::vector<LogLine>& out);
  Status moveOn(std::vector<LogLine>& out);

  std::filesystem::path path_;
  std::string name_;  // path_'s file name, to pick our events from the folder's
  UniqueFd inotify_;
  int folder_watch_ = -1;
  int file_watch_ = -1;
  UniqueFd held_;
  FileId held_id_;
  std::uint64_t offset_ = 0;  // read so far from held_
  bool behind_ = false;       // drain stopped at its budget: more is there already
  LogLineAssembler assembler_;
};

// Sends the lines `query` selects, then every line written after them, until `cancelled`
// returns true (asked at least every `check_every`) or `sink` returns false. A log that
// does not exist yet is waited for. Errors: reading a log file failed.
Status followLog(const std::filesystem::path& log_file, const LogQuery& query,
                 const LogSink& sink, const std::function<bool()>& cancelled,
                 std::chrono::milliseconds check_every = kFollowCheckEvery);

}  // namespace contd::container
