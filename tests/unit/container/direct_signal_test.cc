// contd's own SIGTERM to a container's init (direct_signal.h) is sent only to a process in
// that container's cgroup; anything else is left to containerd. The delivery to a real
// container is covered by the Delete and Stop tests on real parts (graceful exits, 0 SIGKILL
// fallbacks in bench_lifecycle).

#include "modules/container/direct_signal.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

namespace fs = std::filesystem;

class DirectSignalTest : public ::testing::Test {
protected:
  void SetUp() override {
    child_ = ::fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      ::pause();
      ::_exit(0);
    }
    proc_ = fs::temp_directory_path() / ("contd-direct-signal-" + std::to_string(::getpid()));
    fs::create_directories(proc_ / std::to_string(child_));
  }
  void TearDown() override {
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, 0);
    fs::remove_all(proc_);
  }
  void cgroupOfChild(const std::string& path) {
    std::ofstream(proc_ / std::to_string(child_) / "cgroup")
        << "12:pids:" << path << "\n11:memory:" << path << "\n0::/\n";
  }
  // Whether the child is still running (not ended by a signal).
  bool childRuns() {
    int status = 0;
    return ::waitpid(child_, &status, WNOHANG) == 0;
  }

  pid_t child_ = -1;
  fs::path proc_;
};

TEST_F(DirectSignalTest, TheContainersOwnInitGetsTheSignal) {
  cgroupOfChild("/ns1/web");
  EXPECT_TRUE(signalContainerInit(child_, "ns1", "web", SIGTERM, proc_));
  int status = 0;
  ASSERT_EQ(::waitpid(child_, &status, 0), child_);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

TEST_F(DirectSignalTest, AProcessOfAnotherCgroupIsLeftToContainerd) {
  cgroupOfChild("/ns1/web-2");  // another container, though its name starts alike
  EXPECT_FALSE(signalContainerInit(child_, "ns1", "web", SIGTERM, proc_));
  cgroupOfChild("/ns1/web/sub");  // below it: not its init
  EXPECT_FALSE(signalContainerInit(child_, "ns1", "web", SIGTERM, proc_));
  EXPECT_TRUE(childRuns());
}

TEST_F(DirectSignalTest, NoProcessOrNoPidIsLeftToContainerd) {
  EXPECT_FALSE(signalContainerInit(0, "ns1", "web", SIGTERM, proc_));
  EXPECT_FALSE(signalContainerInit(1, "ns1", "web", SIGTERM, proc_));
  EXPECT_FALSE(signalContainerInit(child_, "", "web", SIGTERM, proc_));
  // No cgroup file (the process is gone from this /proc).
  EXPECT_FALSE(signalContainerInit(child_, "ns1", "web", SIGTERM, proc_));
  EXPECT_TRUE(childRuns());
}

}  // namespace
}  // namespace contd::container
