// podman's human sizes (decimal units, three significant digits) and ages.

#include "modules/contctl/human.h"

#include <gtest/gtest.h>

namespace contd::contctl {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

TEST(ContctlHuman, SizesUseDecimalUnitsAndThreeDigits) {
  EXPECT_EQ(humanSize(0), "0B");
  EXPECT_EQ(humanSize(999), "999B");
  EXPECT_EQ(humanSize(1000), "1kB");
  EXPECT_EQ(humanSize(1234), "1.23kB");
  EXPECT_EQ(humanSize(12'345'678), "12.3MB");
  EXPECT_EQ(humanSize(4'300'000), "4.3MB");
  EXPECT_EQ(humanSize(2'000'000'000), "2GB");
  EXPECT_EQ(humanSize(999'999), "1MB");  // not "1e+03kB"
  EXPECT_EQ(humanSize(1'500'000'000'000ULL), "1.5TB");
}

TEST(ContctlHuman, AgesReadLikePodmans) {
  const system_clock::time_point now(seconds(1'800'000'000));
  const auto ago = [&](std::int64_t s) { return relativeTime(now - seconds(s), now); };
  EXPECT_EQ(ago(0), "Less than a second ago");
  EXPECT_EQ(ago(-30), "Less than a second ago");  // a clock a little ahead
  EXPECT_EQ(ago(1), "1 second ago");
  EXPECT_EQ(ago(42), "42 seconds ago");
  EXPECT_EQ(ago(61), "About a minute ago");
  EXPECT_EQ(ago(150), "2 minutes ago");
  EXPECT_EQ(ago(59 * 60), "59 minutes ago");
  EXPECT_EQ(ago(3600), "About an hour ago");
  EXPECT_EQ(ago(5 * 3600), "5 hours ago");
  EXPECT_EQ(ago(3 * 86400), "3 days ago");
  EXPECT_EQ(ago(15 * 86400), "2 weeks ago");
  EXPECT_EQ(ago(90 * 86400), "3 months ago");
  EXPECT_EQ(ago(800 * 86400), "2 years ago");
  EXPECT_EQ(relativeTime(1'800'000'000 - 120, now), "2 minutes ago");
}

}  // namespace
}  // namespace contd::contctl
