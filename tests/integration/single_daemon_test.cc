// One contd per containerd: a second contd on the same containerd socket refuses to start
// and names the first one's pid; once the first is gone, a new one starts.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/integration/support/daemon_fixture.h"

namespace contd {
namespace {

namespace support = ::contd::testing;

class SingleDaemonIT : public support::DaemonFixture {
protected:
  SingleDaemonIT()
      : DaemonFixture({.ns_prefix = "single", .dir_prefix = "contd-single",
                       .start_daemon = true}) {}
};

TEST_F(SingleDaemonIT, SecondDaemonOnSameContainerdRefusesNamingTheFirst) {
  const std::string first_pid = std::to_string(daemon_->pid());
  // Its own socket and log folder: only the containerd is shared.
  auto second = support::startContd(containerd_->socketPath(), dir_->path() / "second");
  ASSERT_FALSE(second) << "a second contd started on the same containerd";
  const std::string& message = second.error().message;
  EXPECT_NE(message.find("another contd (pid " + first_pid + ")"), std::string::npos) << message;
  EXPECT_NE(message.find(containerd_->socketPath()), std::string::npos) << message;
  // The first one was not disturbed.
  auto ls = contctl({"ls"});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;

  // Once the first has exited, a new one takes over.
  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  auto third = support::startContd(containerd_->socketPath(), dir_->path() / "third");
  ASSERT_TRUE(third) << third.error().message;
  auto listed = support::runContctl((*third)->socketPath(), {"ls"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  // And the old one, started again, is now the second and refuses naming the new one.
  const Status restarted = daemon_->restart();
  EXPECT_FALSE(restarted);
  if (!restarted) {
    EXPECT_NE(restarted.error().message.find("pid " + std::to_string((*third)->pid())),
              std::string::npos)
        << restarted.error().message;
  }
  auto third_stopped = (*third)->stop();
  ASSERT_TRUE(third_stopped) << third_stopped.error().message;
  EXPECT_EQ(*third_stopped, 0);
}

}  // namespace
}  // namespace contd
