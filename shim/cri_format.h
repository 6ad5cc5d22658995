#pragma once
// The CRI log line, as kubelet and conmon (`src/ctr_logging.c`) write it:
//
//   <RFC3339Nano UTC timestamp> <stream> <tag> <text>\n
//   2026-11-22T09:46:47.123456789Z stdout F hello
//
// `stream` is `stdout` or `stderr`; `tag` is `F` for the last (or only) record of a line and
// `P` for a record that the next record of the same stream continues. `text` never holds a
// newline. The timestamp always has 9 fraction digits (zero-padded), unlike Go's
// RFC3339Nano which trims trailing zeros: fixed width, and the readers accept both.
//
// std only, no syscalls except clock_gettime in now(). Threading: one owner per object.

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace contd::shim {

// "2026-11-22T09:46:47.123456789Z": 20 (date, time and '.') + 9 + 'Z'.
inline constexpr std::size_t kTimestampLength = 30;

// Longest text of one record. A longer line is cut into `P` records of exactly this many
// bytes followed by one `F` record with the rest; a partial line (no newline yet) is held
// back until its newline, EOF, or until it outgrows this size. 16 KiB like Docker's and
// containerd's CRI buffers: long enough for any human-readable line, small enough that
// two streams' buffers stay cheap.
inline constexpr std::size_t kMaxRecordText = 16 * 1024;

// Upper bound of the bytes one record adds on top of its text: timestamp, " stdout ",
// "F ", "\n".
inline constexpr std::size_t kRecordOverhead = kTimestampLength + 8 + 2 + 1;

// Formats UTC timestamps, caching the "YYYY-MM-DDTHH:MM:SS." prefix of the current second
// so that a call costs one comparison and nine digits.
class TimestampFormatter {
public:
  // Writes exactly kTimestampLength bytes to `out`.
  void format(const timespec& ts, char* out);
  // clock_gettime(CLOCK_REALTIME).
  static timespec now();

private:
  std::int64_t cached_second_ = INT64_MIN;
  char prefix_[20] = {};
};

enum class Stream { kStdout, kStderr };

// Cuts one stream's bytes into CRI records. The records are appended to a caller-owned
// std::string (the write batch), so records of both streams share one write.
class LineFramer {
public:
  explicit LineFramer(Stream stream) : stream_(stream) { pending_.reserve(kMaxRecordText); }

  // Frames `data` (any bytes, possibly many lines, possibly ending mid-line); whole lines
  // and full partial buffers go to `out`, stamped `timestamp` (kTimestampLength bytes).
  void feed(std::string_view data, const char* timestamp, std::string& out);
  // At EOF: the held-back partial line, if any, becomes an `F` record.
  void finish(const char* timestamp, std::string& out);

  std::size_t pendingBytes() const { return pending_.size(); }

private:
  void emit(std::string_view a, std::string_view b, char tag, const char* timestamp,
            std::string& out) const;

  Stream stream_;
  std::string pending_;  // text of the current line not yet written, < = kMaxRecordText
};

}  // namespace contd::shim
