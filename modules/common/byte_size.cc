#include "modules/common/byte_size.h"

#include <charconv>
#include <limits>

namespace contd {

Result<std::uint64_t> parseByteSize(std::string_view text) {
  std::uint64_t scale = 1;
  std::string_view digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k': case 'K': scale = 1ULL << 10; break;
      case 'm': case 'M': scale = 1ULL << 20; break;
      case 'g': case 'G': scale = 1ULL << 30; break;
      case 't': case 'T': scale = 1ULL << 40; break;
      default: break;
    }
    if (scale != 1) {
      digits.remove_suffix(1);
    }
  }
  std::uint64_t number = 0;
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, number);
  if (digits.empty() || ec != std::errc() || ptr != end ||
      number > std::numeric_limits<std::uint64_t>::max() / scale) {
    return invalidArgument("expected a byte count such as 67108864, 512M or 2G");
  }
  return number * scale;
}

}  // namespace contd
