#include "modules/common/printable.h"

#include <string>

#include <gtest/gtest.h>

namespace contd {
namespace {

TEST(Printable, KeepsPlainTextAsItIs) {
  EXPECT_EQ(printable("web-1 in ns1"), "web-1 in ns1");
  EXPECT_EQ(inQuotes("web"), "'web'");
}

TEST(Printable, EscapesQuotesBackslashesControlAndNonAsciiBytes) {
  EXPECT_EQ(printable("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(printable("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("h1-\xc3\xa9"), "h1-\\xc3\\xa9");
}

TEST(Printable, CapsTheInputAndSaysSo) {
  EXPECT_EQ(printable(std::string(10, 'x'), 4), "xxxx...");
  EXPECT_EQ(printable(std::string(4, 'x'), 4), "xxxx");
  EXPECT_EQ(inQuotes(std::string(1 << 20, 'x')).size(), kDefaultPrintableLength + 5);
}

}  // namespace
}  // namespace contd
