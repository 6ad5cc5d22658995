// contctl end to end: the real contctl binary talks to the real contd daemon over its unix
// socket, which drives a private containerd and runc.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <signal.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;

class ContctlIT : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    if (!support::missingContainerdPrerequisites().empty()) {
      return;
    }
    auto containerd = support::PrivateContainerd::start();
    if (!containerd) {
      suite_error_ = containerd.error().message;
      return;
    }
    containerd_ = std::move(*containerd);
    auto rootfs = support::BusyboxRootfs::build();
    if (!rootfs) {
      suite_error_ = rootfs.error().message;
      return;
    }
    rootfs_.emplace(std::move(*rootfs));
  }

  static void TearDownTestSuite() {
    containerd_.reset();
    rootfs_.reset();
  }

  void SetUp() override {
    const std::string missing = support::missingContainerdPrerequisites();
    CONTD_REQUIRE_OR_SKIP(missing.empty(), missing);
    ASSERT_TRUE(suite_error_.empty()) << suite_error_;
    ns_ = support::uniqueName("ctl");
    auto netns = support::NetworkNamespace::create();
    ASSERT_TRUE(netns) << netns.error().message;
    netns_ = std::move(*netns);
    auto dir = support::TempDir::make("contd-ctl");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    support::ContdDaemon::Options options;
    options.binary = CONTD_BIN;
    options.containerd_socket = containerd_->socketPath();
    options.dir = dir_->path();
    auto daemon = support::ContdDaemon::start(options);
    ASSERT_TRUE(daemon) << daemon.error().message;
    daemon_ = std::move(*daemon);
  }

  void TearDown() override {
    daemon_.reset();
    if (containerd_) {
      auto client = containerd::GrpcClient::connect(containerd_->socketPath(), 5s);
      if (client) {
        Status purged = support::purgeNamespace(**client, ns_);
        EXPECT_TRUE(purged) << purged.error().message;
      }
    }
    if (netns_) {
      EXPECT_TRUE(netns_->remove());
    }
    if (dir_) {
      EXPECT_TRUE(dir_->remove());
    }
  }

  support::CommandResult contctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {CONTCTL_BIN, "--socket", daemon_->socketPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = support::runCommand(argv, 30s);
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : support::CommandResult{};
  }

  std::vector<std::string> runArgs(const std::string& name) const {
    return {"run", ns_, name, "--rootfs", rootfs_->path().string(), "--netns", netns_->name(),
            "--env", "COLOR=blue", "--memory", "64M", "--", "/bin/sh", "-c",
            "trap 'exit 0' TERM; echo started; while true; do sleep 1 & wait; done"};
  }

  nlohmann::json inspectJson(const std::string& name) {
    auto out = contctl({"--json", "inspect", ns_, name});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    return nlohmann::json::parse(out.out, nullptr, false);
  }

  static inline std::unique_ptr<support::PrivateContainerd> containerd_;
  static inline std::optional<support::BusyboxRootfs> rootfs_;
  static inline std::string suite_error_;

  std::string ns_;
  std::unique_ptr<support::NetworkNamespace> netns_;
  std::optional<support::TempDir> dir_;
  std::unique_ptr<support::ContdDaemon> daemon_;
};

TEST_F(ContctlIT, RunListInspectRemove) {
  auto run = contctl(runArgs("web"));
  ASSERT_EQ(run.exit_code, 0) << run.err;

  auto ls = contctl({"ls", "-n", ns_});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("NAMESPACE"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("web"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("running"), std::string::npos) << ls.out;

  auto ns = contctl({"ns"});
  ASSERT_EQ(ns.exit_code, 0) << ns.err;
  EXPECT_NE(ns.out.find(ns_), std::string::npos) << ns.out;

  auto info = inspectJson("web");
  ASSERT_FALSE(info.is_discarded());
  const auto& c = info.contains("info") ? info["info"] : info;
  EXPECT_EQ(c["status"], "RUNNING") << info.dump();
  EXPECT_GT(std::stoll(c["pid"].is_string() ? c["pid"].get<std::string>()
                                            : std::to_string(c["pid"].get<long long>())),
            0);
  EXPECT_EQ(c["spec"]["env"], nlohmann::json::array({"COLOR=blue"})) << info.dump();

  auto human = contctl({"inspect", ns_, "web"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("running"), std::string::npos) << human.out;

  auto rm = contctl({"rm", ns_, "web"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto gone = contctl({"inspect", ns_, "web"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("not found"), std::string::npos) << gone.err;
}

TEST_F(ContctlIT, ErrorsCarryTheServersMessageAndExitCode) {
  auto args = runArgs("bad");
  args[4] = "/no/such/rootfs";
  auto bad = contctl(args);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("rootfs"), std::string::npos) << bad.err;

  ASSERT_EQ(contctl(runArgs("twice")).exit_code, 0);
  auto again = contctl(runArgs("twice"));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;

  auto usage = contctl({"run", ns_});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;

  auto missing = contctl({"rm", ns_, "ghost"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
}

TEST_F(ContctlIT, RestartingContdLeavesTheContainerRunningWithTheSamePid) {
  ASSERT_EQ(contctl(runArgs("steady")).exit_code, 0);
  auto before = inspectJson("steady");
  const auto pid = before["info"]["pid"];
  ASSERT_FALSE(pid.is_null()) << before.dump();
  ASSERT_NE(pid, "0") << before.dump();

  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0) << daemon_->logTail();
  ASSERT_TRUE(daemon_->restart());
  auto after = inspectJson("steady");
  EXPECT_EQ(after["info"]["status"], "RUNNING");
  EXPECT_EQ(after["info"]["pid"], pid);

  ASSERT_TRUE(daemon_->crash());
  ASSERT_TRUE(daemon_->restart());
  auto after_crash = inspectJson("steady");
  EXPECT_EQ(after_crash["info"]["status"], "RUNNING");
  EXPECT_EQ(after_crash["info"]["pid"], pid);
}

}  // namespace
}  // namespace contd
