#pragma once
// The fixture of integration tests that drive the container module (ContainerService) on
// real parts: one private containerd and one busybox rootfs per test process (with ctest,
// per test), and per test a containerd namespace, a network namespace, a temp dir (logs
// under <dir>/logs) and a service; everything is purged in TearDown, even after a failure.
//
// A test class derives from it and may override serviceOptions() to change the service.
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).
// CONTD_LOG_LEVEL=debug shows each step.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "modules/common/logging.h"
#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/suite_containerd.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::testing {

class ServiceFixture : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    const char* level = std::getenv("CONTD_LOG_LEVEL");
    log::init(level != nullptr && log::isValidLevel(level) ? level : "warn");
    if (!missingContainerdPrerequisites().empty()) {
      return;  // SetUp skips (or fails in CI) each test with the reason.
    }
    suite_error_ = startSuiteContainerd(containerd_, &rootfs_);
  }

  static void TearDownTestSuite() {
    containerd_.reset();
    rootfs_.reset();
  }

  // The service every test gets; the log shim is the build's.
  virtual container::ServiceOptions serviceOptions() {
    container::ServiceOptions options;
    options.log_root = dir_->path() / "logs";
    options.log_shim = CONTD_SHIM_LOGS_BIN;
    return options;
  }

  void SetUp() override {
    const std::string missing = missingContainerdPrerequisites();
    CONTD_REQUIRE_OR_SKIP(missing.empty(), missing);
    ASSERT_TRUE(suite_error_.empty()) << suite_error_;
    auto client = containerd::GrpcClient::connect(containerd_->socketPath(),
                                                  std::chrono::seconds(5));
    ASSERT_TRUE(client) << client.error().message;
    client_ = std::move(*client);
    ns_ = uniqueName("svc");
    auto netns = NetworkNamespace::create();
    ASSERT_TRUE(netns) << netns.error().message;
    netns_ = std::move(*netns);
    auto dir = TempDir::make("contd-svc");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    service_ = std::make_unique<container::ContainerService>(*client_, serviceOptions());
  }

  void TearDown() override {
    service_.reset();
    if (client_) {
      Status purged = purgeNamespace(*client_, ns_);
      EXPECT_TRUE(purged) << purged.error().message;
    }
    if (netns_) {
      Status removed = netns_->remove();
      EXPECT_TRUE(removed) << removed.error().message;
    }
    if (dir_) {
      Status removed = dir_->remove();
      EXPECT_TRUE(removed) << removed.error().message;
    }
  }

  static inline std::unique_ptr<PrivateContainerd> containerd_;
  static inline std::optional<BusyboxRootfs> rootfs_;
  static inline std::string suite_error_;

  std::unique_ptr<containerd::GrpcClient> client_;
  std::unique_ptr<container::ContainerService> service_;
  std::string ns_;
  std::unique_ptr<NetworkNamespace> netns_;
  std::optional<TempDir> dir_;
};

}  // namespace contd::testing
