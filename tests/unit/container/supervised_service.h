#pragma once
// A ContainerService on the in-memory containerd and a fake host, with a Supervisor that
// a test starts when it wants one, and a listener on the module's events: the fixture of
// the Supervisor's and ContainerControl's unit tests.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "modules/container/service.h"
#include "modules/container/supervisor.h"
#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_host.h"

namespace contd::container {

using namespace std::chrono_literals;

inline RestartPolicy fastPolicy(std::uint32_t max_failures = 5) {
  return {.initial_delay = 10ms, .max_delay = 50ms, .max_failures = max_failures,
          .window = 60'000ms};
}

class SupervisedServiceTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("contd-supervisor-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    contd::testing::makeFakeHost(root_);
    options_ = contd::testing::fakeHostOptions(root_);
    service_ = std::make_unique<ContainerService>(fake_, options_);
    events_ = service_->events().listen();
  }
  void TearDown() override {
    supervisor_.reset();
    std::filesystem::remove_all(root_);
  }

  void start(RestartPolicy policy = fastPolicy()) {
    supervisor_ = std::make_unique<Supervisor>(fake_, service_->store(), service_->tasks(),
                                               service_->events(), policy);
    supervisor_->start();
    ASSERT_TRUE(supervisor_->waitUntilWatching(5s));
  }

  // Runs a container of the fake host's spec, changed by `edit` when given.
  void run(const std::string& name, const std::function<void(ContainerSpec&)>& edit = {}) {
    ContainerSpec spec = contd::testing::fakeHostSpec(root_, name);
    if (edit) {
      edit(spec);
    }
    auto id = service_->run("ns1", spec);
    ASSERT_TRUE(id) << id.error().message;
  }

  // The next event of `kind` for `id`, skipping others; nullopt after `timeout`.
  std::optional<ModuleEvent> waitFor(ModuleEvent::Kind kind, const std::string& id,
                                     std::chrono::milliseconds timeout = 3s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto event = events_->next(50ms);
      if (event && event->kind == kind && event->id == id) {
        return event;
      }
    }
    return std::nullopt;
  }

  ContainerInfo inspect(const std::string& id) {
    auto info = service_->inspect("ns1", id);
    EXPECT_TRUE(info) << info.error().message;
    return info ? *info : ContainerInfo{};
  }

  std::filesystem::path root_;
  ServiceOptions options_;
  contd::testing::FakeContainerd fake_;
  std::unique_ptr<ContainerService> service_;
  std::shared_ptr<EventBus::Listener> events_;
  std::unique_ptr<Supervisor> supervisor_;
};

}  // namespace contd::container
