// The byte counts contctl's --memory and the daemon's size keys read (common/byte_size.h).

#include "modules/common/byte_size.h"

#include <gtest/gtest.h>

namespace contd {
namespace {

TEST(ByteSize, PlainNumbersAndBinarySuffixes) {
  EXPECT_EQ(parseByteSize("0").value(), 0U);
  EXPECT_EQ(parseByteSize("67108864").value(), 67108864U);
  EXPECT_EQ(parseByteSize("64K").value(), 64ULL << 10);
  EXPECT_EQ(parseByteSize("64k").value(), 64ULL << 10);
  EXPECT_EQ(parseByteSize("512M").value(), 512ULL << 20);
  EXPECT_EQ(parseByteSize("1G").value(), 1ULL << 30);
  EXPECT_EQ(parseByteSize("2t").value(), 2ULL << 40);
  EXPECT_EQ(parseByteSize("16777215T").value(), 16777215ULL << 40);
}

TEST(ByteSize, RefusesEverythingElse) {
  for (const char* bad : {"", "M", "-1", "+1", " 1", "1 ", "1.5G", "512MB", "1KiB", "0x10",
                          "16777216T", "18446744073709551616", "1e3"}) {
    auto size = parseByteSize(bad);
    ASSERT_FALSE(size) << bad;
    EXPECT_EQ(size.error().code, Code::kInvalidArgument);
    EXPECT_EQ(size.error().message, "expected a byte count such as 67108864, 512M or 2G") << bad;
  }
}

}  // namespace
}  // namespace contd
