#include "modules/common/printable.h"

namespace contd {

std::string printable(std::string_view text, std::size_t max_length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max_length) + 8);
  for (const char c : text.substr(0, max_length)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte > 0x7e) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  if (text.size() > max_length) {
    out += "...";
  }
  return out;
}

std::string inQuotes(std::string_view text, std::size_t max_length) {
  return "'" + printable(text, max_length) + "'";
}

}  // namespace contd
