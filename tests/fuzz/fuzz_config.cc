// The daemon's JSON config file (modules/daemon/config.cc): parseConfig on any text.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modules/daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto config =
      contd::daemon::parseConfig(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)config;
  return 0;
}
