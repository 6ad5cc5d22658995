#pragma once
// Text a caller sent, made fit for an error message or a log line. Request fields can hold
// any byte: a newline would forge a log line, a 10 MB id would be echoed back whole.

#include <cstddef>
#include <string>
#include <string_view>

namespace contd {

inline constexpr std::size_t kDefaultPrintableLength = 256;

// `"` and `\` escaped with `\`, bytes below 0x20, 0x7f and above 0x7e as `\xNN`; at most
// `max_length` bytes of `text` are shown, followed by "..." when it was longer.
std::string printable(std::string_view text, std::size_t max_length = kDefaultPrintableLength);

// printable(text) in single quotes: "'a\x0ab'".
std::string inQuotes(std::string_view text, std::size_t max_length = kDefaultPrintableLength);

}  // namespace contd
