#include "modules/contctl/human.h"

#include <cmath>
#include <cstdio>

namespace contd::contctl {

std::string humanSize(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (size >= 1000 && unit + 1 < std::size(kUnits)) {
    size /= 1000;
    ++unit;
  }
  // 999.95 kB rounds to "1e+03" with %.3g: it is 1MB.
  if (unit + 1 < std::size(kUnits) && std::round(size * 100) / 100 >= 999.5) {
    size /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g%s", size, kUnits[unit]);
  return text;
}

std::string relativeTime(std::chrono::system_clock::time_point then,
                         std::chrono::system_clock::time_point now) {
  using std::chrono::duration;
  const double seconds = duration<double>(now - then).count();
  const auto n = [](std::int64_t count, const char* unit) {
    return std::to_string(count) + " " + unit + " ago";
  };
  if (seconds < 1) {
    return "Less than a second ago";
  }
  if (seconds < 2) {
    return "1 second ago";
  }
  if (seconds < 60) {
    return n(static_cast<std::int64_t>(seconds), "seconds");
  }
  const auto minutes = static_cast<std::int64_t>(seconds / 60);
  if (minutes == 1) {
    return "About a minute ago";
  }
  if (minutes < 60) {
    return n(minutes, "minutes");
  }
  const auto hours = static_cast<std::int64_t>(seconds / 3600 + 0.5);
  if (hours == 1) {
    return "About an hour ago";
  }
  if (hours < 48) {
    return n(hours, "hours");
  }
  if (hours < 24 * 7 * 2) {
    return n(hours / 24, "days");
  }
  if (hours < 24 * 30 * 2) {
    return n(hours / 24 / 7, "weeks");
  }
  if (hours < 24 * 365 * 2) {
    return n(hours / 24 / 30, "months");
  }
  return n(static_cast<std::int64_t>(seconds / 3600 / 24 / 365), "years");
}

std::string relativeTime(std::int64_t then_seconds, std::chrono::system_clock::time_point now) {
  return relativeTime(std::chrono::system_clock::time_point(std::chrono::seconds(then_seconds)),
                      now);
}

}  // namespace contd::contctl
