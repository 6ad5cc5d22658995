#pragma once
// The fixture of the GrpcClient integration tests (containerd_*_test.cc): one private
// containerd and busybox rootfs per process (with ctest, per test), and per test a
// containerd namespace (created in SetUp), a network namespace and an IO directory, all
// purged in TearDown (support/daemon_fixture.h), plus helpers to run busybox containers.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).
// CONTD_LOG_LEVEL=debug shows each containerd call with its duration.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/test_spec.h"

namespace contd::containerd {

namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline constexpr auto kTaskTimeout = 10s;

inline void initLogging() { support::initTestLogging(); }

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

class ContainerdFixture : public support::DaemonFixture {
protected:
  ContainerdFixture()
      : DaemonFixture({.ns_prefix = "it", .dir_prefix = "contd-io", .create_namespace = true}) {}

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

  std::string logFile(const std::string& id) const { return dir_->string() + "/" + id + ".log"; }

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
};

}  // namespace contd::containerd
