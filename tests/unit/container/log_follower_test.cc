// Following a log: the backlog and the lines after it exactly once, across rotations, a
// partial line completed later, a log that appears late, a file cut back; woken by
// inotify rather than by polling; and a cancelled follow returns within its check bound.

#include "modules/container/log_follower.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Following : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("contd-follow-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_ = dir_ / "web.log";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void append(const std::string& text, const fs::path& path) {
    std::ofstream(path, std::ios::app | std::ios::binary) << text;
  }
  void append(const std::string& text) { append(text, log_); }
  // What contd-shim-logs does at a rotation: shift the numbered files, start a new file.
  void rotate(unsigned max_files = 3) {
    for (unsigned k = max_files - 1; k >= 1; --k) {
      std::error_code ec;
      fs::rename(numbered(k), numbered(k + 1), ec);
    }
    fs::rename(log_, numbered(1));
    append("");
  }
  fs::path numbered(unsigned k) const { return fs::path(log_.string() + "." + std::to_string(k)); }
  static std::string record(int n) {
    return "2025-11-22T09:46:47.000000000Z stdout F line " + std::to_string(n) + "\n";
  }
  // The texts of the lines one wait brings (a short one: the data is there already).
  static std::vector<std::string> texts(LogFollower& follower,
                                        std::chrono::milliseconds timeout = 20ms) {
    std::vector<LogLine> lines;
    EXPECT_TRUE(follower.wait(timeout, lines));
    return texts(lines);
  }
  static std::vector<std::string> texts(const std::vector<LogLine>& lines) {
    std::vector<std::string> out;
    for (const auto& line : lines) {
      out.push_back(line.text);
    }
    return out;
  }

  fs::path dir_;
  fs::path log_;
};

using Texts = std::vector<std::string>;

TEST_F(Following, BacklogThenNewLinesEachOnce) {
  append(record(1) + record(2) + record(3));
  LogFollower follower(log_);
  EXPECT_TRUE(follower.watching());
  // Written after the follower started and before the backlog is read: in neither twice.
  append(record(4));
  auto backlog = follower.backlog({.tail = 2});
  ASSERT_TRUE(backlog);
  EXPECT_EQ(texts(*backlog), (Texts{"line 2", "line 3"}));
  EXPECT_EQ(texts(follower), (Texts{"line 4"}));
  EXPECT_EQ(texts(follower), Texts{});
  append(record(5));
  EXPECT_EQ(texts(follower), (Texts{"line 5"}));
}

TEST_F(Following, BacklogSpansRotatedFiles) {
  append(record(1), numbered(2));
  append(record(2), numbered(1));
  append(record(3));
  LogFollower follower(log_);
  auto backlog = follower.backlog({});
  ASSERT_TRUE(backlog);
  EXPECT_EQ(texts(*backlog), (Texts{"line 1", "line 2", "line 3"}));
}

TEST_F(Following, RotationWhileFollowing) {
  append(record(1));
  LogFollower follower(log_);
  ASSERT_TRUE(follower.backlog({}));
  // Written to the old file just before the rename, then to the new one.
  append(record(2));
  rotate();
  append(record(3));
  EXPECT_EQ(texts(follower), (Texts{"line 2", "line 3"}));
  append(record(4));
  EXPECT_EQ(texts(follower), (Texts{"line 4"}));
}

TEST_F(Following, SeveralRotationsBetweenTwoWaits) {
  append(record(1));
  LogFollower follower(log_);
  ASSERT_TRUE(follower.backlog({}));
  append(record(2));
  rotate();
  append(record(3));
  rotate();
  append(record(4));
  rotate();
  append(record(5));
  Texts seen;
  for (int i = 0; i < 10 && seen.size() < 4; ++i) {
    for (auto& text : texts(follower)) {
      seen.push_back(text);
    }
  }
  EXPECT_EQ(seen, (Texts{"line 2", "line 3", "line 4", "line 5"}));
}

TEST_F(Following, APartialLineIsCompletedLater) {
  // Unfinished when following starts: neither the backlog nor the follower halves it.
  append(record(1) + "2025-11-22T09:46:47.000000000Z stdout P hel\n");
  LogFollower follower(log_);
  auto backlog = follower.backlog({});
  ASSERT_TRUE(backlog);
  EXPECT_EQ(texts(*backlog), (Texts{"line 1"}));
  append("2025-11-22T09:46:47.000000000Z stderr P oo");
  EXPECT_EQ(texts(follower), Texts{});
  append("ps\n2025-11-22T09:46:47.000000000Z stdout P lo");
  EXPECT_EQ(texts(follower), Texts{});
  append(", world\n2025-11-22T09:46:47.000000000Z stdout F !\n");
  EXPECT_EQ(texts(follower), (Texts{"hello, world!"}));
  append("2025-11-22T09:46:47.000000000Z stderr F !\n");
  EXPECT_EQ(texts(follower), (Texts{"oops!"}));
}

TEST_F(Following, ALogThatAppearsLaterIsReadFromItsStart) {
  LogFollower follower(log_);
  auto backlog = follower.backlog({});
  ASSERT_TRUE(backlog);
  EXPECT_TRUE(backlog->empty());
  EXPECT_EQ(texts(follower), Texts{});
  append(record(1) + record(2));
  EXPECT_EQ(texts(follower), (Texts{"line 1", "line 2"}));
}

TEST_F(Following, AFileCutBackUnderAHalfRecord) {
  append(record(1));
  LogFollower follower(log_);
  ASSERT_TRUE(follower.backlog({}));
  const auto size = fs::file_size(log_);
  append("2025-11-22T09:46:47.000000000Z stdout F a batch the disk refus");
  EXPECT_EQ(texts(follower), Texts{});
  fs::resize_file(log_, size);
  EXPECT_EQ(texts(follower), Texts{});  // the cut is seen before the file grows again
  append(record(2));
  EXPECT_EQ(texts(follower), (Texts{"line 2"}));
}

TEST_F(Following, AWriteWakesTheWaitAtOnce) {
  append(record(1));
  LogFollower follower(log_);
  ASSERT_TRUE(follower.backlog({}));
  ASSERT_TRUE(follower.watching());
  std::thread writer([&] {
    std::this_thread::sleep_for(100ms);
    append(record(2));
  });
  const auto started = Clock::now();
  Texts seen = texts(follower, 10s);
  const auto waited = Clock::now() - started;
  writer.join();
  EXPECT_EQ(seen, (Texts{"line 2"}));
  EXPECT_LT(waited, 2s);
  // With nothing written, the wait lasts its whole timeout: no early spin.
  const auto idle_start = Clock::now();
  EXPECT_EQ(texts(follower, 200ms), Texts{});
  EXPECT_GE(Clock::now() - idle_start, 190ms);
}

TEST_F(Following, OtherFilesInTheFolderDoNotEndTheWait) {
  append(record(1));
  LogFollower follower(log_);
  ASSERT_TRUE(follower.backlog({}));
  const auto started = Clock::now();
  std::thread writer([&] {
    for (int i = 0; i < 5; ++i) {
      append(record(i), dir_ / "db.log");
      std::this_thread::sleep_for(20ms);
    }
  });
  EXPECT_EQ(texts(follower, 300ms), Texts{});
  writer.join();
  EXPECT_GE(Clock::now() - started, 290ms);
}

TEST_F(Following, CancellationEndsTheFollowPromptly) {
  append(record(1));
  std::atomic<bool> cancelled{false};
  std::atomic<int> lines{0};
  Status result = okStatus();
  std::thread follow([&] {
    result = followLog(
        log_, {},
        [&](const LogLine&) {
          ++lines;
          return true;
        },
        [&] { return cancelled.load(); });
  });
  for (int i = 0; i < 100 && lines < 1; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  append(record(2));
  for (int i = 0; i < 100 && lines < 2; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(lines, 2);
  const auto started = Clock::now();
  cancelled = true;
  follow.join();
  EXPECT_LT(Clock::now() - started, kFollowCheckEvery + 100ms);
  EXPECT_TRUE(result);
}

TEST_F(Following, ASinkThatRefusesEndsTheFollow) {
  append(record(1) + record(2));
  int calls = 0;
  auto result = followLog(log_, {}, [&](const LogLine&) { return ++calls < 1; },
                          [] { return false; });
  EXPECT_TRUE(result);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace contd::container
