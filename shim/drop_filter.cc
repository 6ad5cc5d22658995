#include "shim/drop_filter.h"

#include <algorithm>
#include <cstring>

#include "shim/cri_format.h"

namespace contd::shim {

DropFilter::DropFilter(std::uint64_t rate_bytes_per_s)
    : rate_(static_cast<double>(rate_bytes_per_s) / 1000.0),
      capacity_(std::max(static_cast<double>(rate_bytes_per_s),
                         static_cast<double>(kMaxRecordText + kRecordOverhead))),
      tokens_(capacity_) {}

void DropFilter::filter(std::string& batch, std::int64_t now_ms) {
  if (last_ms_ != INT64_MIN && now_ms > last_ms_) {
    tokens_ = std::min(capacity_, tokens_ + rate_ * static_cast<double>(now_ms - last_ms_));
  }
  if (now_ms > last_ms_) {
    last_ms_ = now_ms;
  }
  std::size_t read = 0;
  std::size_t write = 0;
  while (read < batch.size()) {
    std::size_t nl = batch.find('\n', read);
    if (nl == std::string::npos) {
      nl = batch.size() - 1;  // not a record: treated as one (never happens)
    }
    const std::size_t length = nl + 1 - read;
    // "<30-byte time> stdout F text": stream at 31, its 4th letter 'o' (stdout) or 'e'.
    const int stream = length > 38 && batch[read + 34] == 'e' ? 1 : 0;
    const char tag = length > 38 ? batch[read + 38] : 'F';
    if (!in_line_[stream]) {
      keeping_[stream] = tokens_ >= static_cast<double>(length);
    }
    if (keeping_[stream]) {
      tokens_ -= static_cast<double>(length);
      if (write != read) {
        std::memmove(batch.data() + write, batch.data() + read, length);
      }
      write += length;
    } else {
      dropped_bytes_ += length;
      ++dropped_records_;
    }
    in_line_[stream] = tag == 'P';
    read = nl + 1;
  }
  batch.resize(write);
}

}  // namespace contd::shim
