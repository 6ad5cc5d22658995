#include "modules/container/log_reader.h"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>

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

// Found by fuzzing (fuzz_log_reader): years past 2262 overflowed int64 nanoseconds (undefined
// behaviour), impossible dates rolled over, and a sign passed for a digit.
TEST(Rfc3339Nano, RefusesTimesOutOfRangeAndDatesThatDoNotExist) {
  EXPECT_EQ(parseRfc3339Nano("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_FALSE(parseRfc3339Nano("2262-04-11T23:47:16.854775808Z"));
  EXPECT_FALSE(parseRfc3339Nano("4048-01-02T03:04:05.2Z"));
  EXPECT_FALSE(parseRfc3339Nano("1600-01-01T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339Nano("2024-01-42T03:04:06Z"));
  EXPECT_FALSE(parseRfc3339Nano("2023-02-29T00:00:00Z"));
  EXPECT_TRUE(parseRfc3339Nano("2024-02-29T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339Nano("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339Nano("2024-01-01T24:00:00Z"));
  EXPECT_FALSE(parseRfc3339Nano("2024-01-01T00:60:00Z"));
  EXPECT_FALSE(parseRfc3339Nano("-024-01-01T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339Nano("2024-+1-01T00:00:00Z"));
}

TEST(CriRecord, TimeOutOfRangeIsZeroAndTheRecordStaysOne) {
  for (const char* line : {"4048-01-02T03:04:05.2Z stdout F x",
                           "2262-04-11T23:47:16.854775807-01:00 stdout F x",
                           "2024-01-42T03:04:06+02:00 stdout F x"}) {
    auto r = parseCriRecord(line);
    ASSERT_TRUE(r) << line;
    EXPECT_EQ(r->time, 0) << line;
    EXPECT_EQ(r->text, "x") << line;
  }
  auto offset = parseCriRecord("2025-11-22T10:46:47.123456789+01:00 stdout F x");
  ASSERT_TRUE(offset);
  EXPECT_EQ(offset->time, kT0);
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
  EXPECT_FALSE(parseCriRecord("2025-11-22T09:46:47.1Z stdout Fx"));
  EXPECT_FALSE(parseCriRecord("2025-11-22 09:46:47.1Z stdout F x"));
}

TEST(CriRecord, TimeFieldIsRecognisedByItsShape) {
  // An offset is what writers formatting in their local zone put.
  auto local = parseCriRecord("2025-11-22T10:46:47.123456789+01:00 stdout F x");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->time, kT0);
  auto west = parseCriRecord("2025-11-22T04:16:47.123456789-05:30 stdout F x");
  ASSERT_TRUE(west);
  EXPECT_EQ(west->time, kT0);
  // The shape without a valid value is still a record, of unknown time.
  auto no_zone = parseCriRecord("2025-11-22T09:46:47.5 stdout F x");
  ASSERT_TRUE(no_zone);
  EXPECT_EQ(no_zone->time, 0);
  EXPECT_EQ(no_zone->text, "x");
  EXPECT_FALSE(parseCriRecord("2025-11-22T09:46:47 stdout F x"));    // nothing after seconds
  EXPECT_FALSE(parseCriRecord("2025-11-22T09:46:47Zz stdout F x"));  // a letter past the shape
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
  EXPECT_FALSE(out[3].complete);
  EXPECT_TRUE(out[2].complete);
}

TEST(LogLineAssembler, FinishPutsOutUnfinishedPartialsWithText) {
  LogLineAssembler a;
  std::vector<LogLine> out;
  a.feed("2025-11-22T09:46:47.123456789Z stderr P half\n"
         "2025-11-22T09:46:47.123456789Z stdout P \n",
         out);
  a.finish(out);
  ASSERT_EQ(out.size(), 1u);  // the stdout partial has no text: nothing to show
  EXPECT_EQ(out[0], (LogLine{kT0, "stderr", "half", false}));
}

TEST(LogLineAssembler, FirstLineOfEachStreamIsUncertainInsideALog) {
  LogLineAssembler a;
  std::vector<LogLine> out;
  // Read from the middle: "tail" may end a line whose P records came before.
  a.feed("2025-11-22T09:46:47.123456789Z stdout F tail\n"
         "raw\n"
         "2025-11-22T09:46:47.123456789Z stderr P x\n",
         out);
  EXPECT_EQ(a.certainFrom(), 1u);
  EXPECT_TRUE(a.holdsUncertain());
  a.feed("2025-11-22T09:46:47.123456789Z stderr F y\n"
         "2025-11-22T09:46:47.123456789Z stderr P z\n",
         out);
  EXPECT_EQ(a.certainFrom(), 3u);
  EXPECT_FALSE(a.holdsUncertain());  // "z" started after an F of its stream
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
  EXPECT_EQ(lines.error().message, "open '" + log_.string() + "': No such file or directory");
}

TEST_F(LogFiles, RotatedFilesAloneAreRead) {
  write(fs::path(log_.string() + ".1"), record(1));
  auto lines = readLog(log_, {});
  ASSERT_TRUE(lines);
  ASSERT_EQ(lines->size(), 1u);
}

TEST_F(LogFiles, AGapInTheNumbersIsNotTheEnd) {
  // In the middle of a rotation .1 is briefly missing while .2 and .3 are there.
  write(fs::path(log_.string() + ".3"), record(1));
  write(fs::path(log_.string() + ".2"), record(2));
  write(log_, record(3));
  auto lines = readLog(log_, {});
  ASSERT_TRUE(lines);
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ(lines->front().text, "line 1");
}

// A tail is read from the end in growing windows; whatever the content, it must be the
// tail of the whole log: joined lines whole, rotated files in order, since applied first.
TEST_F(LogFiles, TailFromTheEndEqualsTheTailOfEverything) {
  std::mt19937 random(20261122);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  for (const char* suffix : {".2", ".1", ""}) {
    std::string text;
    while (text.size() < 300 * 1024) {
      const int kind = pick(10);
      if (kind == 0) {
        text += "raw output " + std::string(pick(200), 'r') + "\n";
        continue;
      }
      const int length = pick(8) == 0 ? 16384 : pick(300);
      text += "2025-11-22T09:46:" + std::to_string(10 + pick(40)) + ".000000000Z " +
              (pick(3) == 0 ? "stderr" : "stdout") + (pick(3) == 0 ? " P " : " F ") +
              std::string(length, static_cast<char>('a' + pick(26))) + "\n";
    }
    write(fs::path(log_.string() + suffix), text);
  }
  write(log_, "2025-11-22T09:46:59.000000000Z stdout P unfinished", true);
  for (const std::int64_t since : {std::int64_t{0}, *parseRfc3339Nano("2025-11-22T09:46:45Z")}) {
    auto all = readLog(log_, {.since = since});
    ASSERT_TRUE(all);
    for (std::size_t tail : {1, 2, 3, 10, 100, 1000, 100000}) {
      SCOPED_TRACE("tail " + std::to_string(tail) + " since " + std::to_string(since));
      auto lines = readLog(log_, {.tail = tail, .since = since});
      ASSERT_TRUE(lines);
      const std::size_t from = all->size() > tail ? all->size() - tail : 0;
      ASSERT_EQ(*lines, std::vector<LogLine>(all->begin() + static_cast<std::ptrdiff_t>(from),
                                             all->end()));
    }
  }
}

}  // namespace
}  // namespace contd::container
