#pragma once
// Reads a container's log back: the file contd-shim-logs writes and its rotated
// predecessors, oldest first:
//
//   <log_root>/<ns>/<id>.log.<N>   oldest kept
//   ...
//   <log_root>/<ns>/<id>.log.1     newest rotated
//   <log_root>/<ns>/<id>.log       current
//
// Each line is a CRI record "<RFC3339Nano> <stdout|stderr> <F|P> <text>". P (partial)
// records are joined with the records that follow, up to the F that ends the line. A line
// that is not a CRI record is returned as stdout text with no time.
//
// Thread-safety: none needed; every call reads the files afresh.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/common/time_format.h"

namespace contd::container {

struct LogLine {
  std::int64_t time = 0;  // unix nanos; 0 when the line carried none
  std::string stream;     // "stdout" or "stderr"
  std::string text;       // without the trailing newline

  bool operator==(const LogLine&) const = default;
};

struct LogQuery {
  std::size_t tail = 0;      // only the last `tail` lines; 0 = all
  std::int64_t since = 0;    // only lines at or after this time (unix nanos); 0 = all
};

// Parses one CRI record (without its newline). nullopt when `record` is not one.
struct CriRecord {
  std::int64_t time = 0;
  std::string_view stream;
  bool partial = false;
  std::string_view text;
};
std::optional<CriRecord> parseCriRecord(std::string_view record);

// The lines of `log_file` and its rotated files that match `query`, oldest first.
// kNotFound when neither the file nor any rotated file exists.
Result<std::vector<LogLine>> readLog(const std::filesystem::path& log_file, const LogQuery& query);

// Joins CRI records (and plain lines) into log lines; keeps a partial line across calls.
// Used by readLog and by followers that read a growing file piece by piece.
class LogLineAssembler {
public:
  // Feeds raw bytes; complete lines are appended to `out`.
  void feed(std::string_view bytes, std::vector<LogLine>& out);
  // The end of the input: a last line without newline and unfinished partials come out.
  void finish(std::vector<LogLine>& out);

private:
  void record(std::string_view line, std::vector<LogLine>& out);
  std::string pending_bytes_;                 // an incomplete record (no newline yet)
  std::optional<LogLine> partial_stdout_;     // P records waiting for their F
  std::optional<LogLine> partial_stderr_;
};

// Follows a log file as it grows and rotates (for Logs with follow): keeps the file open,
// and when the path names a new file (rotation), drains the old one before switching.
class LogFollower {
public:
  // Starts at the current end of `log_file` (or at its start when it appears later).
  explicit LogFollower(std::filesystem::path log_file);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // Appends the complete lines written since the last call.
  void poll(std::vector<LogLine>& out);

private:
  void drain(std::vector<LogLine>& out);
  std::filesystem::path path_;
  int fd_ = -1;
  LogLineAssembler assembler_;
};

}  // namespace contd::container
