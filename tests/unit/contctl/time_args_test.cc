// logs --since/--until and the health durations: compound durations, dates, RFC 3339.

#include "modules/contctl/time_args.h"

#include <gtest/gtest.h>

namespace contd::contctl {
namespace {

using std::chrono::milliseconds;

TEST(ContctlTimeArgs, DurationsAreCompoundLargestUnitFirst) {
  EXPECT_EQ(parseDurationText("10s"), milliseconds(10'000));
  EXPECT_EQ(parseDurationText("500ms"), milliseconds(500));
  EXPECT_EQ(parseDurationText("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parseDurationText("2h5m10s"), milliseconds(7'510'000));
  EXPECT_EQ(parseDurationText("1m500ms"), milliseconds(60'500));
  for (const char* bad : {"", "10", "1.5h", "m", "10s5m", "5m5m", "-1s", "1d", "1h "}) {
    EXPECT_FALSE(parseDurationText(bad)) << bad;
  }
}

TEST(ContctlTimeArgs, TimesAreRfc3339DatesOrAges) {
  const std::chrono::system_clock::time_point now(std::chrono::seconds(1'800'000'000));
  constexpr std::int64_t kSecond = 1'000'000'000;
  EXPECT_EQ(parseTimeArg("1h30m", now), (1'800'000'000LL - 5400) * kSecond);
  EXPECT_EQ(parseTimeArg("2026-12-05", now), 1'796'428'800LL * kSecond);
  EXPECT_EQ(parseTimeArg("2026-12-05T10:00:00Z", now), (1'796'428'800LL + 36'000) * kSecond);
  EXPECT_EQ(parseTimeArg("2026-12-05T10:00:00.5Z", now),
            (1'796'428'800LL + 36'000) * kSecond + kSecond / 2);
  EXPECT_EQ(parseTimeArg("2026-12-05T10:00:00-05:30", now),
            (1'796'428'800LL + 36'000 + 5 * 3600 + 1800) * kSecond);
  for (const char* bad : {"2026-13-05", "2026-12-05T10:00:00", "yesterday", "10", ""}) {
    EXPECT_FALSE(parseTimeArg(bad, now)) << bad;
  }
}

}  // namespace
}  // namespace contd::contctl
