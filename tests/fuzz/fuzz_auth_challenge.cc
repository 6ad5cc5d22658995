// A registry's WWW-Authenticate header (modules/registry/auth_challenge.cc).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modules/registry/auth_challenge.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto challenges = contd::registry::parseChallenges(
      std::string_view(reinterpret_cast<const char*>(data), size));
  (void)challenges;
  return 0;
}
