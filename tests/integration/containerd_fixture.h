#pragma once
// The fixture of the GrpcClient integration tests (containerd_*_test.cc): one private
// containerd and busybox rootfs per process (with ctest, per test), and per test a
// containerd namespace, a network namespace and an IO directory, all purged in TearDown.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).
// CONTD_LOG_LEVEL=debug shows each containerd call with its duration.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/test_spec.h"
#include "tests/integration/support/unique_name.h"

namespace contd::containerd {

namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline constexpr auto kTaskTimeout = 10s;

inline void initLogging() {
  const char* level = std::getenv("CONTD_LOG_LEVEL");
  log::init(level != nullptr && log::isValidLevel(level) ? level : "warn");
}

// Polls `path` until it contains `needle` or `timeout` passes; returns the content.
inline std::string waitForFileContaining(const std::string& path, std::string_view needle,
                                  std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string content;
  while (Clock::now() < deadline) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    content = buffer.str();
    if (content.find(needle) != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  return content;
}

class ContainerdFixture : public ::testing::Test {
protected:
  // One containerd and one rootfs per process; with ctest that is one per test.
  static void SetUpTestSuite() {
    initLogging();
    if (!support::missingContainerdPrerequisites().empty()) {
      return;  // SetUp skips (or fails in CI) each test with the reason.
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

    auto client = GrpcClient::connect(containerd_->socketPath(), 5s);
    ASSERT_TRUE(client) << client.error().message;
    client_ = std::move(*client);
    ns_ = support::uniqueName("it");
    auto created = client_->ensureNamespace(ns_);
    ASSERT_TRUE(created) << created.error().message;

    auto netns = support::NetworkNamespace::create();
    ASSERT_TRUE(netns) << netns.error().message;
    netns_ = std::move(*netns);
    auto io_dir = support::TempDir::make("contd-io");
    ASSERT_TRUE(io_dir) << io_dir.error().message;
    io_dir_.emplace(std::move(*io_dir));
  }

  // Runs even when SetUp or the test failed half-way: removes whatever exists.
  void TearDown() override {
    if (client_) {
      Status purged = support::purgeNamespace(*client_, ns_);
      EXPECT_TRUE(purged) << purged.error().message;
    }
    if (netns_) {
      Status removed = netns_->remove();
      EXPECT_TRUE(removed) << removed.error().message;
    }
    if (io_dir_) {
      Status removed = io_dir_->remove();
      EXPECT_TRUE(removed) << removed.error().message;
    }
  }

  ContainerRecord record(const std::string& id, std::vector<std::string> args,
                         Labels labels = {},
                         std::optional<std::int64_t> memory_limit = std::nullopt) const {
    support::TestSpec spec;
    spec.memory_limit_bytes = memory_limit;
    spec.rootfs = rootfs_->path().string();
    spec.args = std::move(args);
    spec.netns_path = netns_->path();
    spec.cgroups_path = "/" + ns_ + "/" + id;
    ContainerRecord r;
    r.id = id;
    r.labels = std::move(labels);
    r.spec_json = support::testSpecJson(spec);
    return r;
  }

  std::string logFile(const std::string& id) const { return io_dir_->string() + "/" + id + ".log"; }

  // file:// for both streams: an empty stderr next to a file:// stdout panics the shim.
  TaskIo fileIo(const std::string& id) const {
    const std::string uri = "file://" + logFile(id);
    return TaskIo{"", uri, uri};
  }

  // Creates and starts container `id` running `args`; `state` gets the running task.
  void runContainer(const std::string& id, std::vector<std::string> args, TaskState* state) {
    auto created = client_->createContainer(ns_, record(id, std::move(args)));
    ASSERT_TRUE(created) << created.error().message;
    auto task = client_->createTask(ns_, id, fileIo(id), kTaskTimeout);
    ASSERT_TRUE(task) << task.error().message;
    auto started = client_->startTask(ns_, id);
    ASSERT_TRUE(started) << started.error().message;
    auto got = client_->getTask(ns_, id);
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_EQ(got->status, TaskStatus::kRunning);
    *state = *got;
  }

  static inline std::unique_ptr<support::PrivateContainerd> containerd_;
  static inline std::optional<support::BusyboxRootfs> rootfs_;
  static inline std::string suite_error_;

  std::unique_ptr<GrpcClient> client_;
  std::string ns_;
  std::unique_ptr<support::NetworkNamespace> netns_;
  std::optional<support::TempDir> io_dir_;
};

}  // namespace contd::containerd
