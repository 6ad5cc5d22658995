#pragma once
// contctl's durations and points in time on the command line. Pure; "now" is a parameter.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace contd::contctl {

// "500ms", "10s", "1h30m", "2h5m10s": one or more whole numbers with a unit (h, m, s, ms),
// largest first. nullopt for anything else ("10", "1.5h", "m", "").
std::optional<std::chrono::milliseconds> parseDurationText(std::string_view text);

// logs --since/--until: unix nanoseconds of
//   - an RFC 3339 time, "2026-12-05T10:00:00Z", "2026-12-05T10:00:00.5+02:00";
//   - a date, "2026-12-05": its midnight UTC;
//   - a duration, "1h30m", "10s": that long before `now`.
// nullopt for anything else.
std::optional<std::int64_t> parseTimeArg(std::string_view text,
                                         std::chrono::system_clock::time_point now);

}  // namespace contd::contctl
