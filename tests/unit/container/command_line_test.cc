#include "modules/container/command_line.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

using Words = std::vector<std::string>;

Words split(std::string_view line) {
  auto words = splitCommandLine(line);
  EXPECT_TRUE(words.ok()) << line << ": " << (words ? "" : words.error().message);
  return words ? *words : Words{};
}

void expectSplitError(std::string_view line, std::string_view what) {
  auto words = splitCommandLine(line);
  ASSERT_FALSE(words.ok()) << "accepted: " << line;
  EXPECT_EQ(words.error().code, Code::kInvalidArgument);
  EXPECT_EQ(words.error().message.rfind("entrypoint: ", 0), 0u) << words.error().message;
  EXPECT_NE(words.error().message.find(what), std::string::npos) << words.error().message;
}

TEST(SplitCommandLine, WhitespaceSeparatesWords) {
  EXPECT_EQ(split("/bin/sh"), (Words{"/bin/sh"}));
  EXPECT_EQ(split("  /bin/echo \t hello\nworld  "), (Words{"/bin/echo", "hello", "world"}));
}

TEST(SplitCommandLine, SingleQuotesAreLiteral) {
  EXPECT_EQ(split("sh -c 'sleep 1000'"), (Words{"sh", "-c", "sleep 1000"}));
  EXPECT_EQ(split(R"('a\b "c" $HOME `x`')"), (Words{R"(a\b "c" $HOME `x`)"}));
  EXPECT_EQ(split("'line\nbreak'"), (Words{"line\nbreak"}));
}

TEST(SplitCommandLine, DoubleQuotesEscapeOnlyShellSpecials) {
  EXPECT_EQ(split(R"("a \"b\" \\ \$ \`")"), (Words{R"(a "b" \ $ `)"}));
  // Before other characters the backslash stays, as in sh.
  EXPECT_EQ(split(R"("a\nb\'c")"), (Words{R"(a\nb\'c)"}));
  EXPECT_EQ(split(R"("it's")"), (Words{"it's"}));
}

TEST(SplitCommandLine, BackslashOutsideQuotesEscapesNextCharacter) {
  EXPECT_EQ(split(R"(a\ b c\'d \"e\" \\)"), (Words{"a b", "c'd", "\"e\"", "\\"}));
}

TEST(SplitCommandLine, BackslashNewlineContinuesTheLine) {
  EXPECT_EQ(split("echo a\\\nb"), (Words{"echo", "ab"}));
  EXPECT_EQ(split("echo \"a\\\nb\""), (Words{"echo", "ab"}));
  EXPECT_EQ(split("echo \\\n x"), (Words{"echo", "x"}));
}

TEST(SplitCommandLine, AdjacentPartsJoinIntoOneWord) {
  EXPECT_EQ(split(R"(a"b c"'d e'f)"), (Words{"ab cd ef"}));
}

TEST(SplitCommandLine, EmptyQuotesMakeEmptyWords) {
  EXPECT_EQ(split("cmd '' \"\""), (Words{"cmd", "", ""}));
}

TEST(SplitCommandLine, NoExpansionOfAnyKind) {
  EXPECT_EQ(split("echo $HOME ~ *.txt $(id) `id` # not a comment; a && b | c > f"),
            (Words{"echo", "$HOME", "~", "*.txt", "$(id)", "`id`", "#", "not", "a", "comment;", "a",
                   "&&", "b", "|", "c", ">", "f"}));
}

TEST(SplitCommandLine, RefusesUnterminatedQuotes) {
  expectSplitError("sh -c 'sleep", "unterminated single quote");
  expectSplitError("echo \"abc", "unterminated double quote");
  expectSplitError(R"(echo "abc\")", "unterminated double quote");
}

TEST(SplitCommandLine, RefusesTrailingBackslash) {
  expectSplitError("echo abc\\", "trailing backslash");
}

TEST(SplitCommandLine, RefusesEmptyCommand) {
  expectSplitError("", "no command");
  expectSplitError(" \t\n ", "no command");
  expectSplitError("\\\n", "no command");
}

TEST(JoinCommandLine, LeavesSafeWordsAlone) {
  EXPECT_EQ(joinCommandLine({"/bin/echo", "a-b_c", "k=v", "x:y,z.w@h%1+2"}),
            "/bin/echo a-b_c k=v x:y,z.w@h%1+2");
  EXPECT_EQ(joinCommandLine({}), "");
}

TEST(JoinCommandLine, QuotesWhatNeedsIt) {
  EXPECT_EQ(joinCommandLine({"sh", "-c", "sleep 1000"}), "sh -c 'sleep 1000'");
  EXPECT_EQ(joinCommandLine({"it's"}), R"('it'\''s')");
  EXPECT_EQ(joinCommandLine({"a", ""}), "a ''");
}

TEST(JoinCommandLine, SplitOfJoinGivesTheWordsBack) {
  const std::vector<Words> cases = {
      {"/bin/sh"},
      {"sh", "-c", "echo \"$HOME\" && ls *"},
      {"a b", "", "'", "''", "\"", "\\", "\\\\n", "tab\there", "new\nline", "$(x)", "`y`"},
      {"trailing\\", "it's a 'quote'", " leading space", "#hash", "~tilde"},
      {std::string("nul\0inside", 10)},
  };
  for (const auto& words : cases) {
    const std::string line = joinCommandLine(words);
    auto back = splitCommandLine(line);
    ASSERT_TRUE(back.ok()) << line << ": " << back.error().message;
    EXPECT_EQ(*back, words) << line;
  }
}

}  // namespace
}  // namespace contd::container
