#pragma once
// The container's log file: appends batches of CRI records, rotates by size, and survives a
// full disk or a removed folder without ever holding up the caller.
//
// Rotation (max_size > 0): before a record would take the file past max_size, and the file
// is not empty, the files shift up by one and a fresh <id>.log is opened:
//
//   <id>.log.<max_files>      removed (as is any .<max_files+1>, .<max_files+2>, … left over
//                             from a larger max_files)
//   <id>.log.<k>          ->  <id>.log.<k+1>      for k = max_files-1 … 1
//   <id>.log              ->  <id>.log.1          (max_files == 0: <id>.log is removed)
//
// So reading .<max_files> … .1 and then <id>.log gives the output in order. Rotation only
// happens between records: no record is split, lost or written twice by it. A single record
// larger than max_size gets a file of its own.
//
// Trouble (the contract the shim's loop relies on): write() never fails and never blocks
// beyond one write(2) to a regular file. When the file cannot be opened or written (ENOSPC,
// EIO, folder removed and not re-creatable …), the batch is dropped and counted, and an
// *episode* starts: one report (warning) names the syscall and errno; further batches are
// dropped without any syscall until kRetryInterval has passed, then the next batch is
// tried again. The first batch written after an episode ends it with a second report
// (notice) giving how long it lasted and how many bytes and records were dropped. A write
// that fails half-way is cut back (ftruncate) to the last whole record, so the file never
// holds half a record (if even that fails, a newline is written first on recovery). A file
// found at open not ending in '\n' (a writer killed inside write(2)) likewise gets a newline
// before the first record appended to it.
//
// Every kCheckInterval (checked on write) the file's identity is compared with the path:
// when <id>.log was removed, renamed away, or its folder removed, the namespace folder is
// re-created and a fresh file opened (reported once, notice). Records written between the
// removal and that check went to the removed file and are lost.
//
// std + POSIX only. Threading: one owner (the shim's single thread).

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "shim/options.h"

namespace contd::shim {

inline constexpr std::int64_t kRetryIntervalMs = 1000;
inline constexpr std::int64_t kCheckIntervalMs = 1000;

// Where the file reports its troubles (the shim: the journal). `priority` is a syslog
// level (3 err, 4 warning, 5 notice).
class Reporter {
public:
  virtual ~Reporter() = default;
  virtual void report(int priority, std::string_view message) = 0;
};

class LogFile {
public:
  LogFile(const Options& options, Reporter& reporter);
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Opens (or creates) <log_root>/<ns>/<id>.log for appending, creating the folders.
  // False when that failed: an episode has started and write() retries the open.
  bool open(std::int64_t now_ms);

  // Appends `records` (whole CRI records, each ending in '\n'), rotating as above. `now_ms`
  // is a monotonic clock in milliseconds (injected for tests).
  void write(std::string_view records, std::int64_t now_ms);

  // Closes the file; reports the dropped totals when an episode is still going on.
  void close();

  bool failing() const { return failing_; }
  std::uint64_t droppedBytes() const { return total_dropped_bytes_; }
  std::uint64_t droppedRecords() const { return total_dropped_records_; }
  std::uint64_t size() const { return size_; }  // of the current file, as written by us

private:
  bool openFile(std::int64_t now_ms);
  void checkIdentity(std::int64_t now_ms);
  void rotate(std::int64_t now_ms);
  // Writes `chunk` completely, or cuts the file back to its last whole record and returns
  // the number of bytes kept (then errno_out is set).
  bool writeChunk(std::string_view chunk, std::size_t& kept, int& errno_out);
  void drop(std::string_view records);
  void startEpisode(const std::string& what, int err, std::int64_t now_ms);
  void endEpisode(std::int64_t now_ms);
  std::string rotatedPath(unsigned k) const;

  Options options_;
  std::string path_;
  Reporter& reporter_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::uint64_t size_ = 0;
  bool need_newline_ = false;
  std::int64_t last_check_ms_ = 0;
  std::int64_t rotate_blocked_until_ms_ = 0;

  bool failing_ = false;
  std::int64_t episode_start_ms_ = 0;
  std::int64_t retry_at_ms_ = 0;
  std::uint64_t episode_dropped_bytes_ = 0;
  std::uint64_t episode_dropped_records_ = 0;
  std::uint64_t total_dropped_bytes_ = 0;
  std::uint64_t total_dropped_records_ = 0;
};

}  // namespace contd::shim
