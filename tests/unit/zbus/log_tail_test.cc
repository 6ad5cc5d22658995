// The zbus Logs text: raw lines as they are, CRI lines without their framing, partials
// joined, the last N logical lines of a file read from its end.

#include "zbus-bridge/log_tail.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace contd::zbus {
namespace {

TEST(LogTail, RawLinesStayAsTheyAre) {
  EXPECT_EQ(lastLogLines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(lastLogLines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(lastLogLines("", 100), "");
  EXPECT_EQ(lastLogLines("\n\n", 100), "\n\n");
}

TEST(LogTail, CriFramingIsStrippedAndPartialsJoined) {
  const std::string text =
      "2026-11-22T09:46:47.123456789Z stdout F hello\n"
      "2026-11-22T09:46:47.2Z stderr P par\n"
      "2026-11-22T09:46:47.3Z stdout F between\n"
      "2026-11-22T09:46:47.4Z stderr F tial\n"
      "2026-11-22T09:46:47.5+01:00 stdout F \n"
      "2026-11-22T09:46:47.6Z stdout F\n"
      "not a cri line stdout F x\n";
  EXPECT_EQ(lastLogLines(text, 100), "hello\nbetween\npartial\n\n\nnot a cri line stdout F x\n");
  EXPECT_EQ(lastLogLines(text, 2), "\nnot a cri line stdout F x\n");
  // Lines that only look a bit like CRI are kept whole.
  EXPECT_EQ(lastLogLines("2026-11-22T09:46:47Z stdin F x\n", 1), "2026-11-22T09:46:47Z stdin F x\n");
  EXPECT_EQ(lastLogLines("2026-11-22T09:46:47Z stdout X x\n", 1),
            "2026-11-22T09:46:47Z stdout X x\n");
  // A partial nothing completed yet is shown as it is.
  EXPECT_EQ(lastLogLines("2026-11-22T09:46:47Z stdout P abc\n", 1), "abc");
}

TEST(LogTail, CutStartDropsTheFirstLine) {
  EXPECT_EQ(lastLogLines("tial line\nb\n", 100, true), "b\n");
}

class LogFile : public ::testing::Test {
protected:
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_ = std::filesystem::temp_directory_path() /
                                ("contd-log-tail-" + std::to_string(::getpid()) + ".log");
};

TEST_F(LogFile, LastHundredOfAFileLargerThanTheWindow) {
  {
    std::ofstream out(path_);
    for (int i = 0; i < 50000; ++i) {
      out << "2026-11-22T09:46:47.123456789Z stdout F line " << i << "\n";
    }
  }
  auto tail = tailLogFile(path_, 100);
  ASSERT_TRUE(tail) << tail.error().message;
  std::string expected;
  for (int i = 49900; i < 50000; ++i) {
    expected += "line " + std::to_string(i) + "\n";
  }
  EXPECT_EQ(*tail, expected);
}

TEST_F(LogFile, LongLinesGrowTheWindow) {
  const std::string long_line(100000, 'x');
  {
    std::ofstream out(path_);
    out << "first\n" << long_line << "\n" << long_line << "\nlast\n";
  }
  auto tail = tailLogFile(path_, 3);
  ASSERT_TRUE(tail) << tail.error().message;
  EXPECT_EQ(*tail, long_line + "\n" + long_line + "\nlast\n");
}

TEST_F(LogFile, MissingFileIsNotFound) {
  auto tail = tailLogFile(path_, 100);
  ASSERT_FALSE(tail);
  EXPECT_EQ(tail.error().code, Code::kNotFound);
  EXPECT_NE(tail.error().message.find(path_.string()), std::string::npos);
}

}  // namespace
}  // namespace contd::zbus
