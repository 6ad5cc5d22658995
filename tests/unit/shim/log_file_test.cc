#include "shim/log_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace contd::shim {
namespace {

namespace fs = std::filesystem;

class RecordingReporter : public Reporter {
public:
  void report(int priority, std::string_view message) override {
    reports.emplace_back(priority, std::string(message));
  }
  std::vector<std::pair<int, std::string>> reports;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A record of exactly `size` bytes (text padded with '.'), numbered for order checks.
std::string rec(int n, std::size_t size = 20) {
  std::string r = "r" + std::to_string(n) + " ";
  r.resize(size - 1, '.');
  return r + "\n";
}

class LogFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/contd-logfile-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    options_.log_root = root_.string();
    options_.ns = "ns";
    options_.id = "web";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path file(std::string_view suffix = "") const {
    return root_ / "ns" / ("web.log" + std::string(suffix));
  }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(root_ / "ns")) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path root_;
  Options options_;
  RecordingReporter reporter_;
};

TEST_F(LogFileTest, CreatesFoldersAndAppendsAcrossRestarts) {
  {
    LogFile f(options_, reporter_);
    ASSERT_TRUE(f.open(0));
    f.write(rec(1), 0);
    f.close();
  }
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  EXPECT_EQ(f.size(), 20u);
  f.write(rec(2) + rec(3), 0);
  EXPECT_EQ(slurp(file()), rec(1) + rec(2) + rec(3));
  EXPECT_TRUE(reporter_.reports.empty());
  struct stat st {};
  ASSERT_EQ(::stat((root_ / "ns").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  ASSERT_EQ(::stat(file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(LogFileTest, HalfRecordLeftByAKilledWriterIsEndedBeforeAppending) {
  fs::create_directories(root_ / "ns");
  {
    std::ofstream out(file(), std::ios::binary);
    out << rec(1) << "2026-11-22T09:46:47.1";  // a writer died inside write(2)
  }
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(2), 0);
  EXPECT_EQ(slurp(file()), rec(1) + "2026-11-22T09:46:47.1\n" + rec(2));
}

TEST_F(LogFileTest, RotatesAtRecordBoundariesAndShiftsNames) {
  options_.max_size = 50;  // two 20-byte records per file
  options_.max_files = 2;
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  std::string batch;
  for (int i = 1; i <= 9; ++i) {
    batch += rec(i);
  }
  f.write(batch, 0);  // one batch: cut into files at record boundaries
  EXPECT_EQ(listing(), (std::vector<std::string>{"web.log", "web.log.1", "web.log.2"}));
  EXPECT_EQ(slurp(file(".2")), rec(5) + rec(6));  // oldest kept; r1..r4 rotated out
  EXPECT_EQ(slurp(file(".1")), rec(7) + rec(8));
  EXPECT_EQ(slurp(file()), rec(9));
  f.write(rec(10), 0);
  f.write(rec(11), 0);  // 60 > 50: rotate first
  EXPECT_EQ(slurp(file(".2")), rec(7) + rec(8));
  EXPECT_EQ(slurp(file(".1")), rec(9) + rec(10));
  EXPECT_EQ(slurp(file()), rec(11));
  EXPECT_TRUE(reporter_.reports.empty());
}

TEST_F(LogFileTest, RecordExactlyFillingTheFileStaysInIt) {
  options_.max_size = 40;
  options_.max_files = 1;
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(1) + rec(2) + rec(3), 0);
  EXPECT_EQ(slurp(file(".1")), rec(1) + rec(2));
  EXPECT_EQ(slurp(file()), rec(3));
}

TEST_F(LogFileTest, OversizedRecordGetsAFileOfItsOwn) {
  options_.max_size = 30;
  options_.max_files = 3;
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(1) + rec(2, 100) + rec(3), 0);
  EXPECT_EQ(slurp(file(".2")), rec(1));
  EXPECT_EQ(slurp(file(".1")), rec(2, 100));
  EXPECT_EQ(slurp(file()), rec(3));
}

TEST_F(LogFileTest, ExistingFullFileRotatesOnFirstWrite) {
  fs::create_directories(root_ / "ns");
  std::ofstream(file()) << rec(1) << rec(2);
  options_.max_size = 40;
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(3), 0);
  EXPECT_EQ(slurp(file(".1")), rec(1) + rec(2));
  EXPECT_EQ(slurp(file()), rec(3));
}

TEST_F(LogFileTest, ZeroMaxFilesKeepsOnlyTheCurrentFile) {
  options_.max_size = 40;
  options_.max_files = 0;
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(1) + rec(2) + rec(3) + rec(4) + rec(5), 0);
  EXPECT_EQ(listing(), std::vector<std::string>{"web.log"});
  EXPECT_EQ(slurp(file()), rec(5));
}

TEST_F(LogFileTest, RemovesFilesBeyondASmallerMaxFiles) {
  fs::create_directories(root_ / "ns");
  for (const char* s : {".1", ".2", ".3", ".4"}) {
    std::ofstream(file(s)) << s;
  }
  options_.max_size = 20;
  options_.max_files = 2;
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(1) + rec(2), 0);
  EXPECT_EQ(listing(), (std::vector<std::string>{"web.log", "web.log.1", "web.log.2"}));
  EXPECT_EQ(slurp(file(".2")), ".1");
  EXPECT_EQ(slurp(file(".1")), rec(1));
}

TEST_F(LogFileTest, NoRotationWithZeroMaxSize) {
  options_.max_size = 0;
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  for (int i = 0; i < 100; ++i) {
    f.write(rec(i), 0);
  }
  EXPECT_EQ(listing(), std::vector<std::string>{"web.log"});
  EXPECT_EQ(f.size(), 2000u);
}

TEST_F(LogFileTest, ReopensARemovedFileAtTheNextCheck) {
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(1), 0);
  fs::remove(file());
  f.write(rec(2), kCheckIntervalMs - 1);  // not checked yet: goes to the removed file
  f.write(rec(3), kCheckIntervalMs);
  EXPECT_EQ(slurp(file()), rec(3));
  ASSERT_EQ(reporter_.reports.size(), 1u);
  EXPECT_EQ(reporter_.reports[0].first, 5);
  EXPECT_NE(reporter_.reports[0].second.find("was removed or replaced"), std::string::npos);
  EXPECT_FALSE(f.failing());
}

TEST_F(LogFileTest, RecreatesARemovedFolder) {
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(1), 0);
  fs::remove_all(root_ / "ns");
  f.write(rec(2), kCheckIntervalMs);
  EXPECT_EQ(slurp(file()), rec(2));
  EXPECT_FALSE(f.failing());
  EXPECT_EQ(f.droppedBytes(), 0u);
}

TEST_F(LogFileTest, RenamedAwayFileIsReplacedByAFreshOne) {
  LogFile f(options_, reporter_);
  ASSERT_TRUE(f.open(0));
  f.write(rec(1), 0);
  fs::rename(file(), file(".old"));
  f.write(rec(2), kCheckIntervalMs);
  EXPECT_EQ(slurp(file()), rec(2));
  EXPECT_EQ(slurp(file(".old")), rec(1));
}

TEST_F(LogFileTest, UnwritablePathDropsCountsRetriesAndReportsOncePerEpisode) {
  // The namespace "folder" is a regular file: open fails with ENOTDIR, even for root.
  std::ofstream(root_ / "ns") << "in the way";
  LogFile f(options_, reporter_);
  EXPECT_FALSE(f.open(0));
  EXPECT_TRUE(f.failing());
  f.write(rec(1), 10);
  f.write(rec(2) + rec(3), 500);
  f.write(rec(4), kRetryIntervalMs + 10);  // retried and failed again: still one report
  EXPECT_EQ(f.droppedBytes(), 80u);
  EXPECT_EQ(f.droppedRecords(), 4u);
  ASSERT_EQ(reporter_.reports.size(), 1u);
  EXPECT_EQ(reporter_.reports[0].first, 4);
  EXPECT_NE(reporter_.reports[0].second.find("open '" + file().string() + "': Not a directory"),
            std::string::npos)
      << reporter_.reports[0].second;

  fs::remove(root_ / "ns");
  f.write(rec(5), kRetryIntervalMs + 20);  // before the next retry: dropped, no syscall
  f.write(rec(6), 2 * kRetryIntervalMs + 10);
  EXPECT_FALSE(f.failing());
  EXPECT_EQ(slurp(file()), rec(6));
  ASSERT_EQ(reporter_.reports.size(), 2u);
  EXPECT_EQ(reporter_.reports[1].first, 5);
  EXPECT_NE(reporter_.reports[1].second.find("dropped 100 bytes (5 records)"), std::string::npos)
      << reporter_.reports[1].second;

  fs::remove_all(root_ / "ns");
  std::ofstream(root_ / "ns") << "in the way";
  f.write(rec(7), 4 * kRetryIntervalMs);
  EXPECT_TRUE(f.failing());
  EXPECT_EQ(reporter_.reports.size(), 4u);  // "removed or replaced" + the new episode
  f.close();
  EXPECT_EQ(reporter_.reports.size(), 5u);  // exiting while failing: the totals
  EXPECT_NE(reporter_.reports[4].second.find("exiting"), std::string::npos);
}

}  // namespace
}  // namespace contd::shim
