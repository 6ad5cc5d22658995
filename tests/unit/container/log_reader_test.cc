#include "modules/container/log_reader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1'763'804'807'123'456'789;  // 2025-11-22T09:46:47.123456789Z

TEST(Rfc3339Nano, ParsesNanosecondsAndShorterFractions) {
  EXPECT_EQ(parseRfc3339Nano("2025-11-22T09:46:47.123456789Z"), kT0);
  EXPECT_EQ(parseRfc3339Nano("2025-11-22T09:46:47.5Z"), kT0 - 123'456'789 + 500'000'000);
  EXPECT_EQ(parseRfc3339Nano("2025-11-22T09:46:47Z"), kT0 - 123'456'789);
  EXPECT_FALSE(parseRfc3339Nano("2025-11-22 09:46:47Z"));
  EXPECT_FALSE(parseRfc3339Nano("2025-11-22T09:46:47.1+01:00"));
}

TEST(CriRecord, SplitsTimeStreamTagAndText) {
  auto r = parseCriRecord("2025-11-22T09:46:47.123456789Z stderr P half a li");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->time, kT0);
  EXPECT_EQ(r->stream, "stderr");
  EXPECT_TRUE(r->partial);
  EXPECT_EQ(r->text, "half a li");
  auto empty = parseCriRecord("2025-11-22T09:46:47.123456789Z stdout F ");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->text, "");
  EXPECT_FALSE(parseCriRecord("plain output line"));
  EXPECT_FALSE(parseCriRecord("2025-11-22T09:46:47.1Z stdin F x"));
  EXPECT_FALSE(parseCriRecord("2025-11-22T09:46:47.1Z stdout X x"));
}

TEST(LogLineAssembler, JoinsPartialsPerStreamAndAcrossFeeds) {
  LogLineAssembler a;
  std::vector<LogLine> out;
  a.feed("2025-11-22T09:46:47.123456789Z stdout P hel", out);
  EXPECT_TRUE(out.empty());
  a.feed("lo\n2025-11-22T09:46:47.123456789Z stderr F oops\n", out);
  ASSERT_EQ(out.size(), 1u);  // stderr finished; stdout still partial
  EXPECT_EQ(out[0], (LogLine{kT0, "stderr", "oops"}));
  a.feed("2025-11-22T09:46:47.123456789Z stdout F , world\nraw line\n", out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1], (LogLine{kT0, "stdout", "hello, world"}));
  EXPECT_EQ(out[2], (LogLine{0, "stdout", "raw line"}));
  a.feed("no newline yet", out);
  EXPECT_EQ(out.size(), 3u);
  a.finish(out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3].text, "no newline yet");
}

class LogFiles : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("contd-logreader-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_ = dir_ / "web.log";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& path, const std::string& text, bool append = false) {
    std::ofstream(path, append ? std::ios::app : std::ios::trunc) << text;
  }
  static std::string record(int n, const char* stream = "stdout") {
    return "2025-11-22T09:46:" + std::to_string(10 + n) + ".000000000Z " + stream + " F line " +
           std::to_string(n) + "\n";
  }
  fs::path dir_;
  fs::path log_;
};

TEST_F(LogFiles, ReadsRotatedFilesOldestFirst) {
  write(fs::path(log_.string() + ".2"), record(1) + record(2));
  write(fs::path(log_.string() + ".1"), record(3));
  write(log_, record(4) + record(5, "stderr"));
  auto lines = readLog(log_, {});
  ASSERT_TRUE(lines);
  ASSERT_EQ(lines->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ((*lines)[i].text, "line " + std::to_string(i + 1));
  }
  EXPECT_EQ((*lines)[4].stream, "stderr");
}

TEST_F(LogFiles, TailAndSinceSelectTheEnd) {
  write(fs::path(log_.string() + ".1"), record(1) + record(2));
  write(log_, record(3) + record(4));
  auto tail = readLog(log_, {.tail = 3});
  ASSERT_TRUE(tail);
  ASSERT_EQ(tail->size(), 3u);
  EXPECT_EQ(tail->front().text, "line 2");
  auto since = readLog(log_, {.since = *parseRfc3339Nano("2025-11-22T09:46:13Z")});
  ASSERT_TRUE(since);
  ASSERT_EQ(since->size(), 2u);
  EXPECT_EQ(since->front().text, "line 3");
}

TEST_F(LogFiles, MissingLogIsNotFound) {
  auto lines = readLog(log_, {});
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().code, Code::kNotFound);
}

TEST_F(LogFiles, FollowerSeesAppendsAndSurvivesRotation) {
  write(log_, record(1));
  LogFollower follower(log_);
  std::vector<LogLine> out;
  follower.poll(out);
  EXPECT_TRUE(out.empty());  // starts at the end
  write(log_, record(2), true);
  follower.poll(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "line 2");
  // The writer appends, rotates, then writes to a fresh file.
  write(log_, record(3), true);
  fs::rename(log_, fs::path(log_.string() + ".1"));
  write(log_, record(4));
  follower.poll(out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].text, "line 3");
  EXPECT_EQ(out[2].text, "line 4");
}

}  // namespace
}  // namespace contd::container
