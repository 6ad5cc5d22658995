#pragma once
// The `drop` back-pressure policy: a token bucket over the bytes of CRI records (as they
// would be written to the file, docs/logs.md). The writer keeps reading the pipes at full
// speed; records beyond the rate are dropped and counted, so a noisy container can neither
// fill the disk nor be slowed down by its log.
//
// Whole lines only: a line (its `P` records and the closing `F` record of one stream) is
// kept or dropped as a whole, decided at its first record. A kept line is finished even when
// the bucket runs dry meanwhile; the debt is paid back before the next line is kept, so the
// long-run rate holds.
//
// Bucket: `rate` bytes/s, capacity one second's worth (at least one full record), full at
// start. std only. Threading: one owner.

#include <cstdint>
#include <string>

namespace contd::shim {

class DropFilter {
public:
  explicit DropFilter(std::uint64_t rate_bytes_per_s);

  // Removes from `batch` (whole CRI records, each ending in '\n') the records over the
  // rate, in place. `now_ms`: a monotonic clock in milliseconds.
  void filter(std::string& batch, std::int64_t now_ms);

  std::uint64_t droppedBytes() const { return dropped_bytes_; }
  std::uint64_t droppedRecords() const { return dropped_records_; }

private:
  double rate_;      // bytes per millisecond
  double capacity_;  // bytes
  double tokens_;    // may go negative while a kept line is finished
  std::int64_t last_ms_ = INT64_MIN;
  // Per stream (0 stdout, 1 stderr): inside a line whose fate is decided, and that fate.
  bool in_line_[2] = {false, false};
  bool keeping_[2] = {false, false};
  std::uint64_t dropped_bytes_ = 0;
  std::uint64_t dropped_records_ = 0;
};

}  // namespace contd::shim
