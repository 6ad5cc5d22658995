#include "tests/integration/support/unique_name.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>

namespace contd::testing {

std::string uniqueName(std::string_view prefix) {
  static std::atomic<unsigned> counter{0};
  // The pid keeps concurrent processes apart; the random part keeps this run apart from
  // leftovers of an earlier, crashed run that had the same pid.
  static const unsigned salt = std::random_device{}() & 0xffffffu;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "-%d-%u-%06x", static_cast<int>(::getpid()), ++counter, salt);
  return std::string(prefix) + buf;
}

}  // namespace contd::testing
