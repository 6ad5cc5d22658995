// Log retention: the layout of deleted containers' logs (retired_logs.h), the limits that
// remove them, and what Delete, Run of a reused name, Logs and the start of contd do with
// them (ContainerService against an in-memory containerd).

#include "modules/container/log_retention.h"

#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "modules/container/retired_logs.h"
#include "modules/container/service.h"
#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_host.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string readAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A CRI record of stdout.
std::string record(const std::string& text) {
  return "2026-12-06T10:00:00.000000000Z stdout F " + text + "\n";
}

WallClock::time_point at(int seconds) { return WallClock::time_point(std::chrono::seconds(seconds)); }

class RetentionTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("contd-retention-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    testing::makeFakeHost(root_);
    fs::create_directories(root_ / "cgroup" / "memory");
    logs_ = root_ / "logs";
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path live(const std::string& ns, const std::string& file) const { return logs_ / ns / file; }
  fs::path deleted(const std::string& ns) const { return logs_ / ns / "deleted"; }
  // Retires a log of `bytes` bytes of `name` in ns1, deleted at `when`.
  void retireOne(const std::string& name, WallClock::time_point when, std::size_t bytes = 10) {
    writeFile(live("ns1", name + ".log"), std::string(bytes, 'x'));
    ASSERT_TRUE(retireFiles(logs_, "ns1", name, {live("ns1", name + ".log")}, when));
  }

  // What one retired log of a `bytes`-byte file takes on disk here (its folder and file, in
  // blocks): the unit of the size limit.
  std::uint64_t diskUseOfOne(std::size_t bytes) {
    writeFile(live("probe", "p.log"), std::string(bytes, 'x'));
    auto made = retireFiles(logs_, "probe", "p", {live("probe", "p.log")}, at(1));
    EXPECT_TRUE(made && *made);
    const std::uint64_t use = made && *made ? (*made)->bytes : 0;
    fs::remove_all(logs_ / "probe");
    return use;
  }

  fs::path root_;
  fs::path logs_;
};

TEST_F(RetentionTest, FolderNamesCarryTheNameAndTheTimeOfTheDeletion) {
  const auto when = WallClock::time_point(std::chrono::microseconds(1796551461123456));
  const std::string folder = retiredFolderName("web.v1_a-b", when);
  EXPECT_EQ(folder, "web.v1_a-b@20261206T100421.123456Z");
  auto parsed = parseRetiredFolderName(folder);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, "web.v1_a-b");
  EXPECT_EQ(parsed->second, when);
  for (const char* other : {"web", "web@", "@20261205T142421.123456Z", "web@20261205T142421Z",
                            "we b@20261205T142421.123456Z", "web@2026120XT142421.123456Z",
                            "web@20261205T142421.123456Z.tmp", "web@20261205T142421.123456X"}) {
    EXPECT_FALSE(parseRetiredFolderName(other)) << other;
  }
}

TEST_F(RetentionTest, RetireMovesEveryFileOfTheLogIntoOneFolder) {
  const std::vector<fs::path> files = {live("ns1", "web.log"), live("ns1", "web.log.1"),
                                       live("ns1", ".web.log.health")};
  for (const auto& file : files) {
    writeFile(file, file.filename().string());
  }
  writeFile(live("ns1", "webx.log"), "another container's");
  ASSERT_TRUE(retireFiles(logs_, "ns1", "web", files, at(100)));

  auto newest = newestRetired(logs_, "ns1", "web");
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->deleted_at, at(100));
  EXPECT_EQ(newest->log, newest->folder / "web.log");
  for (const auto& file : files) {
    EXPECT_FALSE(fs::exists(file)) << file;
    EXPECT_EQ(readAll(newest->folder / file.filename()), file.filename().string());
  }
  EXPECT_EQ(readAll(live("ns1", "webx.log")), "another container's");
  EXPECT_EQ(fs::status(newest->folder).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
}

TEST_F(RetentionTest, NothingToMoveMakesNoFolderAndTheSameTimeTwiceMakesTwo) {
  ASSERT_TRUE(retireFiles(logs_, "ns1", "web", {}, at(100)));
  EXPECT_FALSE(fs::exists(deleted("ns1")));
  retireOne("web", at(100));
  retireOne("web", at(100));
  EXPECT_EQ(listRetired(logs_).size(), 2u);
}

TEST_F(RetentionTest, NewestIsTheLastDeletionOfThatNameOnly) {
  retireOne("web", at(100));
  retireOne("web", at(300));
  retireOne("web", at(200));
  retireOne("web.1", at(400));
  auto newest = newestRetired(logs_, "ns1", "web");
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->deleted_at, at(300));
  EXPECT_FALSE(newestRetired(logs_, "ns1", "we"));
  EXPECT_FALSE(newestRetired(logs_, "ns2", "web"));
}

// What the sweeper takes off its list (takeExpired), from the kept logs as listed on disk.
struct Listed {
  std::deque<RetiredLog> kept;
  std::uint64_t bytes = 0;
};
Listed listed(const fs::path& logs) {
  Listed out;
  for (auto& retired : listRetired(logs)) {
    out.bytes += retired.bytes;
    out.kept.push_back(std::move(retired));
  }
  return out;
}

TEST_F(RetentionTest, WhatIsOlderThanTheRetentionTimeExpires) {
  retireOne("old", at(1000));
  retireOne("young", at(1900));
  Listed list = listed(logs_);
  const auto expired = takeExpired(list.kept, &list.bytes, at(2000), 1000s, 1u << 20);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].deleted_at, at(1000));
  ASSERT_EQ(list.kept.size(), 1u);
  EXPECT_EQ(list.kept[0].deleted_at, at(1900));
  EXPECT_EQ(list.bytes, diskUseOfOne(10));
}

// Sizes are what the logs take on disk, as du counts: a one-line log still takes its blocks.
TEST_F(RetentionTest, TheOldestExpireUntilTheRestFitsTheSize) {
  const std::uint64_t one = diskUseOfOne(400);
  ASSERT_GE(one, 400u);
  retireOne("a", at(100), 400);
  retireOne("b", at(200), 400);
  retireOne("c", at(300), 400);
  Listed list = listed(logs_);
  const auto expired = takeExpired(list.kept, &list.bytes, at(400), 24h, 2 * one + one / 2);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].deleted_at, at(100));
  EXPECT_EQ(list.kept.size(), 2u);
  EXPECT_EQ(list.bytes, 2 * one);
  EXPECT_EQ(takeExpired(list.kept, &list.bytes, at(400), 24h, 0).size(), 2u);  // 0: none kept
  EXPECT_TRUE(list.kept.empty());
  EXPECT_EQ(list.bytes, 0u);
}

// The sweep removes what expired, and only retired folders.
TEST_F(RetentionTest, TheSweepRemovesRetiredFoldersAndLeavesOthersAlone) {
  retireOne("web", at(100));
  writeFile(deleted("ns1") / "notes.txt", "mine");
  writeFile(deleted("ns1") / "x@y" / "file", "mine too");
  fs::create_directories(deleted("ns1") / "web@20000101T000000.000000Z.tmp");
  LogFiles files(LogFilesOptions{.log_root = logs_});
  LogRetention retention(files, {.max_age = 0ms, .max_bytes = 0});
  const auto result = retention.sweep();
  EXPECT_EQ(result.removed, 1u);
  EXPECT_EQ(result.kept, 0u);
  EXPECT_FALSE(newestRetired(logs_, "ns1", "web"));
  EXPECT_TRUE(fs::exists(deleted("ns1") / "notes.txt"));
  EXPECT_TRUE(fs::exists(deleted("ns1") / "x@y" / "file"));
  EXPECT_TRUE(fs::exists(deleted("ns1") / "web@20000101T000000.000000Z.tmp"));
}

// retireFiles says which folder it made, with the time its name carries and the size.
TEST_F(RetentionTest, RetireReturnsTheFolderAsListingWouldFindIt) {
  writeFile(live("ns1", "web.log"), std::string(25, 'x'));
  auto made = retireFiles(logs_, "ns1", "web", {live("ns1", "web.log")},
                          at(100) + std::chrono::nanoseconds(1500));
  ASSERT_TRUE(made);
  ASSERT_TRUE(*made);
  const auto listed = listRetired(logs_);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ((*made)->folder, listed[0].folder);
  EXPECT_EQ((*made)->deleted_at, listed[0].deleted_at);  // whole microseconds, as named
  EXPECT_GE((*made)->bytes, 25u);  // the folder's and the file's blocks
  EXPECT_EQ(listed[0].bytes, (*made)->bytes);
}

// A container per request retires a log per request: the sweep after each must not list
// every kept log from disk again, only take what expired off the front of its list.
TEST_F(RetentionTest, TheSweepAfterARetireDoesNotListTheDiskAgain) {
  const std::uint64_t one = diskUseOfOne(30);
  LogFiles files(LogFilesOptions{.log_root = logs_});
  LogRetention retention(files, {.max_age = 24h, .max_bytes = 3 * one + one / 2});
  retention.start();
  for (int i = 0; i < 50 && retention.scans() == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(retention.scans(), 1u) << "the first sweep lists the disk";
  for (int i = 0; i < 12; ++i) {
    const std::string name = "req" + std::to_string(i);
    writeFile(live("ns1", name + ".log"), std::string(30, 'x'));
    ASSERT_TRUE(retention.retire("ns1", name));
  }
  // Twelve retired against room for three and a half: the newest three stay.
  for (int i = 0; i < 200 && listRetired(logs_).size() > 3; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  const auto left = listRetired(logs_);
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].folder.filename().string().rfind("req9@", 0), 0u) << left[0].folder;
  EXPECT_EQ(retention.scans(), 1u) << "a retire made the sweeper list the disk again";
  // An explicit sweep lists it, and finds what appeared behind contd's back: four now, so
  // the oldest goes.
  writeFile(deleted("ns1") / retiredFolderName("ext", WallClock::now()) / "ext.log",
            std::string(30, 'x'));
  const auto result = retention.sweep();
  EXPECT_EQ(retention.scans(), 2u);
  EXPECT_EQ(result.kept_bytes, 3 * one);
  const auto kept = listRetired(logs_);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].folder.filename().string().rfind("req10@", 0), 0u) << kept[0].folder;
  EXPECT_EQ(kept[2].folder.filename().string().rfind("ext@", 0), 0u) << kept[2].folder;
}

// ---- What the container module does with them.

class ServiceRetentionTest : public RetentionTest {
protected:
  void SetUp() override {
    RetentionTest::SetUp();
    options_ = testing::fakeHostOptions(root_);
    service_ = std::make_unique<ContainerService>(fake_, options_);
  }

  ServiceOptions options_;
  testing::FakeContainerd fake_;
  std::unique_ptr<ContainerService> service_;
};

TEST_F(ServiceRetentionTest, DeleteKeepsTheLogApartAndLogsSaysWhereItIs) {
  ASSERT_TRUE(service_->run("ns1", testing::fakeHostSpec(root_, "web")));
  writeFile(live("ns1", "web.log"), record("first life"));
  ASSERT_TRUE(service_->remove("ns1", "web"));
  EXPECT_FALSE(fs::exists(live("ns1", "web.log")));

  auto lines = service_->logs("ns1", "web", {});
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().code, Code::kNotFound);
  EXPECT_NE(lines.error().message.find("was deleted at "), std::string::npos)
      << lines.error().message;
  EXPECT_NE(lines.error().message.find("previous"), std::string::npos) << lines.error().message;

  auto previous = service_->previousLogs("ns1", "web", {});
  ASSERT_TRUE(previous) << previous.error().message;
  ASSERT_EQ(previous->size(), 1u);
  EXPECT_EQ((*previous)[0].text, "first life");
}

TEST_F(ServiceRetentionTest, ANewContainerOfTheNameStartsAFreshLog) {
  ASSERT_TRUE(service_->run("ns1", testing::fakeHostSpec(root_, "web")));
  writeFile(live("ns1", "web.log"), record("first life"));
  ASSERT_TRUE(service_->remove("ns1", "web"));
  ASSERT_TRUE(service_->run("ns1", testing::fakeHostSpec(root_, "web")));
  writeFile(live("ns1", "web.log"), record("second life"));

  auto lines = service_->logs("ns1", "web", {});
  ASSERT_TRUE(lines) << lines.error().message;
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ((*lines)[0].text, "second life");
  auto previous = service_->previousLogs("ns1", "web", {});
  ASSERT_TRUE(previous) << previous.error().message;
  ASSERT_EQ(previous->size(), 1u);
  EXPECT_EQ((*previous)[0].text, "first life");
}

TEST_F(ServiceRetentionTest, RunRetiresALogAnEarlierContainerLeftInPlace) {
  writeFile(live("ns1", "web.log"), record("left behind"));  // contd died after a Delete
  ASSERT_TRUE(service_->run("ns1", testing::fakeHostSpec(root_, "web")));
  EXPECT_FALSE(fs::exists(live("ns1", "web.log")));
  auto previous = service_->previousLogs("ns1", "web", {});
  ASSERT_TRUE(previous) << previous.error().message;
  ASSERT_EQ(previous->size(), 1u);
  EXPECT_EQ((*previous)[0].text, "left behind");
}

TEST_F(ServiceRetentionTest, StartRetiresOrphanLogsAndKeepsThoseOfContainers) {
  ASSERT_TRUE(service_->run("ns1", testing::fakeHostSpec(root_, "web")));
  writeFile(live("ns1", "web.log"), record("alive"));
  writeFile(live("ns1", "gone.log"), record("orphan"));
  writeFile(live("ns1", "gone.log.1"), record("older"));
  writeFile(live("ns1", "notes.txt"), "not a log");
  service_->retireOrphanLogs();
  EXPECT_EQ(readAll(live("ns1", "web.log")), record("alive"));
  EXPECT_FALSE(fs::exists(live("ns1", "gone.log")));
  EXPECT_FALSE(fs::exists(live("ns1", "gone.log.1")));
  EXPECT_TRUE(fs::exists(live("ns1", "notes.txt")));
  auto previous = service_->previousLogs("ns1", "gone", {});
  ASSERT_TRUE(previous) << previous.error().message;
  EXPECT_EQ(previous->size(), 2u);
}

TEST_F(ServiceRetentionTest, PreviousRefusesNamesOutsideTheRuleNamingTheField) {
  fs::create_directories(logs_ / "ns1" / "deleted" / "x@20261206T100421.000000Z");
  writeFile(logs_ / "ns1" / "deleted" / "x@20261206T100421.000000Z" / "x.log", record("no"));
  auto bad_ns = service_->previousLogs("ns1/deleted/..", "x", {});
  ASSERT_FALSE(bad_ns);
  EXPECT_EQ(bad_ns.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad_ns.error().message.rfind("namespace: ", 0), 0u) << bad_ns.error().message;
  auto bad_id = service_->previousLogs("ns1", "../x", {});
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad_id.error().message.rfind("id: ", 0), 0u) << bad_id.error().message;
}

TEST_F(ServiceRetentionTest, PreviousOfANameWithNoKeptLogIsNotFound) {
  auto previous = service_->previousLogs("ns1", "never", {});
  ASSERT_FALSE(previous);
  EXPECT_EQ(previous.error().code, Code::kNotFound);
  EXPECT_NE(previous.error().message.find("log_retention_ms"), std::string::npos);
  auto lines = service_->logs("ns1", "never", {});
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().message.find("previous"), std::string::npos) << lines.error().message;
}

}  // namespace
}  // namespace contd::container
