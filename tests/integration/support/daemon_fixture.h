#pragma once
// The common fixture of integration tests on real parts, and the helpers it is made of:
//
//   per suite (SetUpTestSuite)   logging (CONTD_LOG_LEVEL, default warn), one private
//                                containerd and one busybox rootfs (with ctest, per test)
//   per test (SetUp)             a GrpcClient on that containerd, a unique containerd
//                                namespace, a network namespace, a temp dir and, when asked
//                                for, the build's contd daemon on them
//   TearDown                     stops the daemon, purges the namespace, removes the network
//                                namespace and the temp dir, even after a failure half-way
//
// A test class derives from DaemonFixture and passes DaemonFixtureOptions to its
// constructor. Hooks: SetUp()/TearDown() overrides that call the base first/last,
// missingPrerequisites() (and setUpSuite() from the class's own SetUpTestSuite) for tests
// that need more than containerd, beforeRemovingDir() to undo what TempDir::remove refuses
// (mounts), startDaemon() for a daemon with arguments only known in the test.
// startContd() and runContctl() serve tests with fixtures of their own.
//
// Header-only: CONTD_BIN and CONTCTL_BIN are compile definitions of each integration test
// executable (contd_integration_test in ../CMakeLists.txt), not of the support library.
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).
// Threading: gtest's main thread only; PrivateContainerd and ContdDaemon are started there so
// that they die with it (PR_SET_PDEATHSIG).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/leftovers.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/suite_containerd.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

#if !defined(CONTD_BIN) || !defined(CONTCTL_BIN)
#error "CONTD_BIN and CONTCTL_BIN must name the built contd and contctl (contd_integration_test)"
#endif

namespace contd::testing {

// Logging of the test process at $CONTD_LOG_LEVEL when valid, else "warn".
inline void initTestLogging() {
  const char* level = std::getenv("CONTD_LOG_LEVEL");
  log::init(level != nullptr && log::isValidLevel(level) ? level : "warn");
}

// Starts the build's contd on `containerd_socket`, its socket, logs/ and contd.log in `dir`
// (created when missing), with `extra_args` after the usual ones. Errors: ContdDaemon::start.
inline Result<std::unique_ptr<ContdDaemon>> startContd(const std::string& containerd_socket,
                                                       std::filesystem::path dir,
                                                       std::vector<std::string> extra_args = {}) {
  ContdDaemon::Options options;
  options.binary = CONTD_BIN;
  options.containerd_socket = containerd_socket;
  options.dir = std::move(dir);
  options.extra_args = std::move(extra_args);
  return ContdDaemon::start(std::move(options));
}

// Runs the build's contctl --socket `socket` `args...`. When it cannot be run at all (or
// times out) the current test fails and an empty result with exit_code -1 comes back.
inline CommandResult runContctl(const std::string& socket, const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::vector<std::string> argv = {CONTCTL_BIN, "--socket", socket};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = runCommand(argv, timeout);
  EXPECT_TRUE(result) << result.error().message;
  return result ? *result : CommandResult{};
}

struct DaemonFixtureOptions {
  std::string ns_prefix = "it";           // uniqueName prefix of the containerd namespace
  std::string netns_prefix = "contd-it";  // NetworkNamespace::create prefix
  std::string dir_prefix = "contd-it";    // TempDir::make prefix
  bool create_namespace = false;          // ensureNamespace(ns_) in SetUp
  bool start_daemon = false;              // startDaemon(daemon_args) at the end of SetUp
  std::vector<std::string> daemon_args;   // extra contd arguments for start_daemon
  std::chrono::milliseconds contctl_timeout = std::chrono::seconds(30);  // of contctl()
};

class DaemonFixture : public ::testing::Test {
protected:
  explicit DaemonFixture(DaemonFixtureOptions options = {}) : options_(std::move(options)) {}

  static void SetUpTestSuite() { setUpSuite(missingContainerdPrerequisites()); }

  static void TearDownTestSuite() {
    containerd_.reset();
    rootfs_.reset();
  }

  // Initialises logging, then starts the suite's containerd and rootfs unless `missing` names
  // a missing prerequisite (SetUp skips or fails each test then). A failure to start is kept
  // in suite_error_, which fails each test. For a SetUpTestSuite of the test class's own.
  static void setUpSuite(const std::string& missing) {
    initTestLogging();
    if (!missing.empty()) {
      return;
    }
    suite_error_ = startSuiteContainerd(containerd_, &rootfs_);
  }

  // What this test needs and the machine lacks; empty when nothing. Checked in SetUp.
  virtual std::string missingPrerequisites() const { return missingContainerdPrerequisites(); }

  // Called in TearDown after the namespace was purged and before the temp dir is removed.
  virtual void beforeRemovingDir() {}

  // A derived SetUp calls this first and returns when IsSkipped() || HasFatalFailure().
  void SetUp() override {
    const std::string missing = missingPrerequisites();
    CONTD_REQUIRE_OR_SKIP(missing.empty(), missing);
    ASSERT_TRUE(suite_error_.empty()) << suite_error_;
    ASSERT_NE(containerd_, nullptr);
    auto client = containerd::GrpcClient::connect(containerd_->socketPath(),
                                                  std::chrono::seconds(5));
    ASSERT_TRUE(client) << client.error().message;
    client_ = std::move(*client);
    ns_ = uniqueName(options_.ns_prefix);
    if (options_.create_namespace) {
      auto created = client_->ensureNamespace(ns_);
      ASSERT_TRUE(created) << created.error().message;
    }
    auto netns = NetworkNamespace::create(options_.netns_prefix);
    ASSERT_TRUE(netns) << netns.error().message;
    netns_ = std::move(*netns);
    auto dir = TempDir::make(options_.dir_prefix);
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    if (options_.start_daemon) {
      ASSERT_NO_FATAL_FAILURE(startDaemon(options_.daemon_args));
    }
  }

  // Runs even when SetUp or the test failed half-way: removes whatever exists. A derived
  // TearDown releases its own parts first, then calls this.
  void TearDown() override {
    daemon_.reset();
    if (client_) {
      Status purged = purgeNamespace(*client_, ns_);
      EXPECT_TRUE(purged) << purged.error().message;
    }
    if (netns_) {
      Status removed = netns_->remove();
      EXPECT_TRUE(removed) << removed.error().message;
    }
    beforeRemovingDir();
    if (dir_) {
      Status removed = dir_->remove();
      EXPECT_TRUE(removed) << removed.error().message;
    }
  }

  // Starts contd on the suite's containerd into daemon_, with its files in `dir` (default: the
  // test's temp dir); fails the test when it does not come up.
  void startDaemon(std::vector<std::string> extra_args = {}, std::filesystem::path dir = {}) {
    auto daemon = startContd(containerd_->socketPath(), dir.empty() ? dir_->path() : dir,
                             std::move(extra_args));
    ASSERT_TRUE(daemon) << daemon.error().message;
    daemon_ = std::move(*daemon);
  }

  // contctl against daemon_ (which must run), with options' contctl_timeout.
  CommandResult contctl(const std::vector<std::string>& args) {
    return runContctl(daemon_->socketPath(), args, options_.contctl_timeout);
  }

  // The leftover checks (leftovers.h) of this test's namespace on the suite's containerd.
  LeftoverScope leftoverScope() const {
    return {.client = client_.get(),
            .containerd_state = std::filesystem::path(containerd_->dir()) / "state",
            .ns = ns_,
            .log_shim = CONTD_SHIM_LOGS_BIN};
  }

  // What is left of the namespace's containers (mounts looked for under the rootfs and the
  // temp dir), waiting up to 10 s for containerd's own clean-up; "" when nothing.
  std::string settledLeftovers() {
    const std::vector<std::filesystem::path> roots = {rootfs_->path(), dir_->path()};
    std::string left = namespaceLeftovers(leftoverScope(), roots);
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         !left.empty() && std::chrono::steady_clock::now() < until;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      left = namespaceLeftovers(leftoverScope(), roots);
    }
    return left;
  }

  static inline std::unique_ptr<PrivateContainerd> containerd_;
  static inline std::optional<BusyboxRootfs> rootfs_;
  static inline std::string suite_error_;

  DaemonFixtureOptions options_;
  std::unique_ptr<containerd::GrpcClient> client_;
  std::string ns_;
  std::unique_ptr<NetworkNamespace> netns_;
  std::optional<TempDir> dir_;
  std::unique_ptr<ContdDaemon> daemon_;
};

}  // namespace contd::testing
