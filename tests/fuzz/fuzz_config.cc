// The daemon's JSON config file (modules/daemon/config.cc): parseConfig on any text, and the
// byte sizes its size keys take (modules/common/byte_size.cc) on the same text.
// Beyond "no crash": a config that parses is written back (configJson, what Info shows)
// and reads back to the same Config; a size that parses is a whole multiple of its suffix.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "modules/common/byte_size.h"
#include "modules/daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = contd::daemon::parseConfig(text);
  if (config) {
    auto again = contd::daemon::parseConfig(contd::daemon::configJson(*config));
    if (!again || !(*again == *config)) {
      std::abort();
    }
  }
  auto bytes = contd::parseByteSize(text);
  if (bytes && !text.empty() && (text.back() == 'M' || text.back() == 'm') &&
      *bytes % (1ULL << 20) != 0) {
    std::abort();
  }
  return 0;
}
