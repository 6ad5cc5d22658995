// The execs a dead contd left (stale_execs.h): found by their fifos next to the log, ended
// in containerd (killed, deleted) and their fifos removed; the fifos of this process's own
// execs, other files and execs containerd cannot answer for are left alone.

#include "modules/container/stale_execs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/fakes/fake_containerd.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

class StaleExecsTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("contd-stale-execs-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "ns1");
    ASSERT_TRUE(client_.ensureNamespace("ns1"));
    ASSERT_TRUE(client_.createContainer("ns1", {.id = "web.1"}));
    ASSERT_TRUE(client_.createTask("ns1", "web.1", {}, std::chrono::seconds(1)));
    ASSERT_TRUE(client_.startTask("ns1", "web.1"));
  }
  void TearDown() override { fs::remove_all(root_); }

  // An exec running in web.1 with its fifos, as a contd of pid `pid` made it.
  std::string leaveExec(int pid, int n) {
    const std::string exec_id = "exec-" + std::to_string(pid) + "-" + std::to_string(n);
    EXPECT_TRUE(client_.execProcess("ns1", "web.1", {.exec_id = exec_id}));
    EXPECT_TRUE(client_.startProcess("ns1", "web.1", exec_id));
    for (const char* suffix : {".in", ".out", ".err"}) {
      const fs::path fifo = root_ / "ns1" / (".web.1." + exec_id + suffix);
      EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    }
    return exec_id;
  }

  std::size_t execCount() { return client_.execs("ns1", "web.1").size(); }

  fs::path root_;
  testing::FakeContainerd client_;
};

TEST_F(StaleExecsTest, EndsTheExecsOfAnotherContdAndRemovesTheirFifos) {
  const std::string stale = leaveExec(4242, 1);
  const std::string own = leaveExec(::getpid(), 7);
  std::ofstream(root_ / "ns1" / "web.1.log") << "a log line\n";
  std::ofstream(root_ / "ns1" / ".web.1.exec-99-1.out") << "a plain file, not a fifo";
  ASSERT_EQ(execCount(), 2u);

  EXPECT_EQ(endStaleExecs(client_, root_, ::getpid()), 1u);

  const auto execs = client_.execs("ns1", "web.1");
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0].exec_id, own);
  EXPECT_EQ(client_.processSignals("ns1", "web.1", own).size(), 0u);
  EXPECT_FALSE(fs::exists(root_ / "ns1" / (".web.1." + stale + ".out")));
  EXPECT_FALSE(fs::exists(root_ / "ns1" / (".web.1." + stale + ".in")));
  EXPECT_TRUE(fs::exists(root_ / "ns1" / (".web.1." + own + ".out")));
  EXPECT_TRUE(fs::exists(root_ / "ns1" / "web.1.log"));
  EXPECT_TRUE(fs::exists(root_ / "ns1" / ".web.1.exec-99-1.out"));
}

TEST_F(StaleExecsTest, FifosOfAnExecContainerdNoLongerKnowsAreRemoved) {
  for (const char* suffix : {".out", ".err"}) {
    ASSERT_EQ(::mkfifo((root_ / "ns1" / (std::string(".gone.exec-1-1") + suffix)).c_str(), 0600), 0);
  }
  EXPECT_EQ(endStaleExecs(client_, root_, ::getpid()), 1u);
  EXPECT_TRUE(fs::is_empty(root_ / "ns1"));
}

TEST_F(StaleExecsTest, AnExecContainerdCannotAnswerForKeepsItsFifos) {
  const std::string stale = leaveExec(4242, 1);
  client_.failNext("killProcess", Code::kUnavailable);
  client_.failNext("deleteProcess", Code::kUnavailable);
  EXPECT_EQ(endStaleExecs(client_, root_, ::getpid()), 0u);
  EXPECT_TRUE(fs::exists(root_ / "ns1" / (".web.1." + stale + ".out")));
  // The next start ends it.
  EXPECT_EQ(endStaleExecs(client_, root_, ::getpid()), 1u);
  EXPECT_EQ(execCount(), 0u);
}

}  // namespace
}  // namespace contd::container
