#pragma once
// Times as text, in the one form contd writes and reads: RFC 3339 in UTC with nanoseconds,
// "2026-11-22T09:46:47.123456789Z" (the CRI log format's and containerd's).

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace contd {

// Unix nanoseconds of "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (any number of fraction digits, or
// none); nullopt for anything else, for a date or time that does not exist ("01-42",
// "25:00:00") and for a time out of the range of int64 nanoseconds (years 1677 to 2262).
std::optional<std::int64_t> parseRfc3339Nano(std::string_view text);

// "2026-12-06T13:04:21Z": a time in whole seconds, UTC (containerd's lease labels, messages,
// contctl's tables); the decimal seconds for a time no calendar date can hold.
std::string formatRfc3339(std::time_t when);

}  // namespace contd
