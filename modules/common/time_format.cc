#include "modules/common/time_format.h"

#include <charconv>
#include <ctime>

namespace contd {
namespace {

// `count` decimal digits at `pos` (from_chars alone would take a sign too).
bool digits(std::string_view text, std::size_t pos, std::size_t count, int* value) {
  if (pos + count > text.size()) {
    return false;
  }
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
  }
  auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + count, *value);
  return ec == std::errc() && ptr == text.data() + pos + count;
}

int daysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// A calendar time as written (timegm would roll "01-42" over into February instead).
bool validDateTime(int year, int month, int day, int hour, int minute, int second) {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) &&
         hour <= 23 && minute <= 59 && second <= 59;
}

}  // namespace

std::optional<std::int64_t> parseRfc3339Nano(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || !digits(text, 0, 4, &year) || text[4] != '-' ||
      !digits(text, 5, 2, &month) || text[7] != '-' || !digits(text, 8, 2, &day) ||
      text[10] != 'T' || !digits(text, 11, 2, &hour) || text[13] != ':' ||
      !digits(text, 14, 2, &minute) || text[16] != ':' || !digits(text, 17, 2, &second)) {
    return std::nullopt;
  }
  std::int64_t nanos = 0;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    std::int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      nanos += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  if (pos + 1 != text.size() || text[pos] != 'Z' ||
      !validDateTime(year, month, day, hour, minute, second)) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::int64_t seconds = ::timegm(&tm);
  // Unix nanoseconds reach from 1677 to 2262 only.
  std::int64_t result = 0;
  if (__builtin_mul_overflow(seconds, std::int64_t{1'000'000'000}, &result) ||
      __builtin_add_overflow(result, nanos, &result)) {
    return std::nullopt;
  }
  return result;
}

std::string formatRfc3339(std::time_t when) {
  std::tm utc{};
  if (::gmtime_r(&when, &utc) == nullptr) {
    return std::to_string(when);  // a year beyond what struct tm holds
  }
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace contd
