#include "modules/common/time_format.h"

#include <charconv>
#include <ctime>

namespace contd {
namespace {

bool digits(std::string_view text, std::size_t pos, std::size_t count, int* value) {
  if (pos + count > text.size()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + count, *value);
  return ec == std::errc() && ptr == text.data() + pos + count;
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
  if (pos + 1 != text.size() || text[pos] != 'Z') {
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
  return seconds * 1'000'000'000 + nanos;
}

}  // namespace contd
