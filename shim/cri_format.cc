#include "shim/cri_format.h"

#include <cstring>

namespace contd::shim {
namespace {

void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Days since 1970-01-01 to a proleptic Gregorian date (the well-known era/day-of-era
// arithmetic): pure, so the formatter needs no libc time-zone state and is testable for
// any second.
void civilFromDays(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

}  // namespace

timespec TimestampFormatter::now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

void TimestampFormatter::format(const timespec& ts, char* out) {
  const std::int64_t second = ts.tv_sec;
  if (second != cached_second_) {
    cached_second_ = second;
    std::int64_t days = second / 86400;
    std::int64_t rest = second % 86400;
    if (rest < 0) {
      rest += 86400;
      --days;
    }
    int year = 0;
    unsigned month = 0;
    unsigned day = 0;
    civilFromDays(days, year, month, day);
    if (year < 0 || year > 9999) {
      year = 0;  // not representable in RFC 3339; a broken clock, not worth more
    }
    const auto y = static_cast<unsigned>(year);
    put2(prefix_, y / 100);
    put2(prefix_ + 2, y % 100);
    prefix_[4] = '-';
    put2(prefix_ + 5, month);
    prefix_[7] = '-';
    put2(prefix_ + 8, day);
    prefix_[10] = 'T';
    put2(prefix_ + 11, static_cast<unsigned>(rest / 3600));
    prefix_[13] = ':';
    put2(prefix_ + 14, static_cast<unsigned>(rest / 60 % 60));
    prefix_[16] = ':';
    put2(prefix_ + 17, static_cast<unsigned>(rest % 60));
    prefix_[19] = '.';
  }
  std::memcpy(out, prefix_, sizeof(prefix_));
  auto ns = static_cast<unsigned long>(ts.tv_nsec);
  for (int i = 28; i >= 20; --i) {
    out[i] = static_cast<char>('0' + ns % 10);
    ns /= 10;
  }
  out[29] = 'Z';
}

void LineFramer::emit(std::string_view a, std::string_view b, char tag, const char* timestamp,
                      std::string& out) const {
  const std::size_t size = kTimestampLength + 11 + a.size() + b.size();
  const std::size_t at = out.size();
  // resize_and_overwrite is C++23; resize() zero-fills a few bytes we then overwrite.
  out.resize(at + size);
  char* p = out.data() + at;
  std::memcpy(p, timestamp, kTimestampLength);
  p += kTimestampLength;
  std::memcpy(p, stream_ == Stream::kStdout ? " stdout " : " stderr ", 8);
  p += 8;
  p[0] = tag;
  p[1] = ' ';
  p += 2;
  if (!a.empty()) {
    std::memcpy(p, a.data(), a.size());
    p += a.size();
  }
  if (!b.empty()) {
    std::memcpy(p, b.data(), b.size());
    p += b.size();
  }
  *p = '\n';
}

void LineFramer::feed(std::string_view data, const char* timestamp, std::string& out) {
  while (!data.empty()) {
    const void* nl = std::memchr(data.data(), '\n', data.size());
    const bool whole_line = nl != nullptr;
    std::string_view text =
        whole_line ? data.substr(0, static_cast<const char*>(nl) - data.data()) : data;
    data.remove_prefix(whole_line ? text.size() + 1 : text.size());
    // Full buffers first: P records of exactly kMaxRecordText bytes.
    while (pending_.size() + text.size() > kMaxRecordText) {
      const std::size_t take = kMaxRecordText - pending_.size();
      emit(pending_, text.substr(0, take), 'P', timestamp, out);
      pending_.clear();
      text.remove_prefix(take);
    }
    if (whole_line) {
      emit(pending_, text, 'F', timestamp, out);
      pending_.clear();
    } else {
      // At most kMaxRecordText: held until the next byte says whether the line goes on.
      pending_.append(text);
    }
  }
}

void LineFramer::finish(const char* timestamp, std::string& out) {
  if (!pending_.empty()) {
    emit(pending_, {}, 'F', timestamp, out);
    pending_.clear();
  }
}

}  // namespace contd::shim
