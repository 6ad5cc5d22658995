#pragma once
// Sizes and ages the way podman prints them in its tables: "12.3MB" (decimal units, three
// significant digits) and "2 minutes ago". Pure functions; "now" is a parameter so tests pin
// it. JSON output never uses these: it keeps the raw numbers and RFC 3339 times.

#include <chrono>
#include <cstdint>
#include <string>

namespace contd::contctl {

// 0 → "0B", 999 → "999B", 1234 → "1.23kB", 12345678 → "12.3MB", 2e9 → "2GB".
std::string humanSize(std::uint64_t bytes);

// The age of `then` at `now`: "Less than a second ago", "5 seconds ago", "About a minute ago",
// "2 minutes ago", "About an hour ago", "3 hours ago", "3 days ago", "2 weeks ago",
// "3 months ago", "2 years ago". A time in the future reads "Less than a second ago".
std::string relativeTime(std::chrono::system_clock::time_point then,
                         std::chrono::system_clock::time_point now);

// The same from unix seconds.
std::string relativeTime(std::int64_t then_seconds, std::chrono::system_clock::time_point now);

}  // namespace contd::contctl
