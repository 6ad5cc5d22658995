#include "modules/common/names.h"

#include <string>

#include <gtest/gtest.h>

namespace contd {
namespace {

TEST(Names, AcceptsContainerdIdentifiers) {
  for (const char* name :
       {"a", "Z", "9", "web", "web-1", "web_1", "web.1", "a.b_c-d", "A1b2C3", "0abc", "x-y-z"}) {
    EXPECT_TRUE(validateName("name", name).ok()) << name;
  }
}

TEST(Names, RefusesEmpty) {
  auto status = validateName("name", "");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Code::kInvalidArgument);
  EXPECT_EQ(status.error().message.rfind("name: ", 0), 0u) << status.error().message;
}

TEST(Names, RefusesSeparatorsAtEdgesOrDoubled) {
  for (const char* name :
       {"-a", "a-", ".a", "a.", "_a", "a_", "a..b", "a-_b", "a--b", "-", ".", "..", "_"}) {
    auto status = validateName("name", name);
    ASSERT_FALSE(status.ok()) << name;
    EXPECT_EQ(status.error().code, Code::kInvalidArgument) << name;
  }
}

TEST(Names, RefusesCharactersOutsideTheRule) {
  for (const char* name :
       {"a/b", "a b", "a:b", "a@b", "é", "a\tb", "a\nb", "../x", "/abs", "a+b", "a~b", "a*b"}) {
    auto status = validateName("name", name);
    ASSERT_FALSE(status.ok()) << name;
  }
  EXPECT_FALSE(validateName("name", std::string("a\0b", 3)).ok());
}

TEST(Names, AcceptsSixtyFourCharactersAndRefusesSixtyFive) {
  EXPECT_TRUE(validateName("name", std::string(64, 'a')).ok());
  auto status = validateName("name", std::string(65, 'a'));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Code::kInvalidArgument);
  // Separators count towards the limit too.
  EXPECT_FALSE(validateName("name", std::string(32, 'a') + "-" + std::string(32, 'b')).ok());
  EXPECT_TRUE(validateName("name", std::string(31, 'a') + "-" + std::string(32, 'b')).ok());
}

TEST(Names, ErrorNamesTheField) {
  auto status = validateName("namespace", "bad name");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message.rfind("namespace: ", 0), 0u) << status.error().message;
  EXPECT_NE(status.error().message.find("bad name"), std::string::npos);
}

TEST(Names, ErrorEscapesAndCapsTheValue) {
  // A caller's bytes never reach a log line raw, and a huge value is not echoed whole.
  auto forged = validateName("namespace", "a\nlevel=error forged");
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().message.find('\n'), std::string::npos) << forged.error().message;
  EXPECT_NE(forged.error().message.find("'a\\x0alevel=error forged'"), std::string::npos)
      << forged.error().message;
  auto huge = validateName("id", std::string(1 << 20, '/'));
  ASSERT_FALSE(huge.ok());
  EXPECT_LT(huge.error().message.size(), 400u);
}

}  // namespace
}  // namespace contd
