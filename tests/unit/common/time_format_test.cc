// Whole-second RFC 3339 times (common/time_format.h): what lease labels, messages and
// contctl's tables print, read back by the parser of the same header.

#include "modules/common/time_format.h"

#include <limits>

#include <gtest/gtest.h>

namespace contd {
namespace {

TEST(TimeFormat, WholeSecondsInUtcReadBackByTheParser) {
  EXPECT_EQ(formatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339(1'764'000'000), "2025-11-24T16:00:00Z");
  EXPECT_EQ(parseRfc3339Nano(formatRfc3339(1'764'000'000)), 1'764'000'000LL * 1'000'000'000);
}

TEST(TimeFormat, ATimeNoCalendarHoldsIsItsSeconds) {
  const auto huge = std::numeric_limits<std::time_t>::max();
  EXPECT_EQ(formatRfc3339(huge), std::to_string(huge));
}

}  // namespace
}  // namespace contd
