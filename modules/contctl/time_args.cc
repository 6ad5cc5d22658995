#include "modules/contctl/time_args.h"

#include <cctype>
#include <charconv>
#include <string>

#include "modules/common/time_format.h"

namespace contd::contctl {
namespace {

// "+02:00" or "-05:30" at the end of an RFC 3339 time: its offset east of UTC, in minutes.
std::optional<int> offsetMinutes(std::string_view zone) {
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') {
    return std::nullopt;
  }
  int hours = 0;
  int minutes = 0;
  if (std::from_chars(zone.data() + 1, zone.data() + 3, hours).ptr != zone.data() + 3 ||
      std::from_chars(zone.data() + 4, zone.data() + 6, minutes).ptr != zone.data() + 6 ||
      hours > 23 || minutes > 59) {
    return std::nullopt;
  }
  return (zone[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
}

}  // namespace

std::optional<std::chrono::milliseconds> parseDurationText(std::string_view text) {
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"h", 3'600'000}, {"ms", 1}, {"m", 60'000}, {"s", 1000}};  // "ms" before "m"
  std::int64_t total = 0;
  std::int64_t last_scale = INT64_MAX;
  if (text.empty()) {
    return std::nullopt;
  }
  while (!text.empty()) {
    std::uint32_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data()) {
      return std::nullopt;
    }
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    bool matched = false;
    for (const auto& [unit, scale] : kUnits) {
      if (text.starts_with(unit) && scale < last_scale) {
        total += static_cast<std::int64_t>(number) * scale;
        last_scale = scale;
        text.remove_prefix(unit.size());
        matched = true;
        break;
      }
    }
    if (!matched) {
      return std::nullopt;
    }
  }
  return std::chrono::milliseconds(total);
}

std::optional<std::int64_t> parseTimeArg(std::string_view text,
                                         std::chrono::system_clock::time_point now) {
  if (auto at = parseRfc3339Nano(text)) {
    return at;
  }
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {  // a date
    return parseRfc3339Nano(std::string(text) + "T00:00:00Z");
  }
  if (text.size() > 6) {
    if (auto offset = offsetMinutes(text.substr(text.size() - 6))) {
      const auto utc = parseRfc3339Nano(std::string(text.substr(0, text.size() - 6)) + "Z");
      if (utc) {
        return *utc - static_cast<std::int64_t>(*offset) * 60'000'000'000;
      }
    }
  }
  if (auto age = parseDurationText(text)) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch() - *age)
        .count();
  }
  return std::nullopt;
}

}  // namespace contd::contctl
