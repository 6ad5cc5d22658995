// Health checks on real parts (docs/lifecycle.md, "Health checks"): the build's contd on a
// private containerd and runc, checks exec'd into busybox containers every second. The check
// tests for a file the test keeps on the host, bind-mounted into the container, so the test
// decides when a container is healthy. A container that turns unhealthy is ended and
// restarted by its restart mode (always; on-failure, with a process that exits 0 on SIGTERM)
// or left running (no); Inspect, the Events stream and `contctl healthcheck run` say so.
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/contctl/client.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/leftovers.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The daemon's Events stream of one namespace, read on a thread of its own until the end.
class EventLog {
public:
  EventLog(const std::string& socket, const std::string& ns)
      : stub_(v1::Containers::NewStub(
            grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()))) {
    v1::EventsRequest request;
    request.set_namespace_(ns);
    reader_ = stub_->Events(&context_, request);
    thread_ = std::thread([this] {
      v1::Event event;
      while (reader_->Read(&event)) {
        std::lock_guard lock(mu_);
        events_.push_back(event);
      }
    });
  }
  ~EventLog() {
    context_.TryCancel();
    thread_.join();
    (void)reader_->Finish();
  }

  // Waits up to `timeout` for an event of `kind` for `id` (past ones count).
  std::optional<v1::Event> await(v1::Event::Kind kind, const std::string& id,
                                 std::chrono::milliseconds timeout = 15s) {
    for (auto until = Clock::now() + timeout; Clock::now() < until;) {
      {
        std::lock_guard lock(mu_);
        for (const auto& event : events_) {
          if (event.kind() == kind && event.id() == id) {
            return event;
          }
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  int count(v1::Event::Kind kind, const std::string& id) {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count_if(events_.begin(), events_.end(), [&](const auto& e) {
      return e.kind() == kind && e.id() == id;
    }));
  }

  std::string text() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& event : events_) {
      out += v1::Event::Kind_Name(event.kind()) + " " + event.id() + " " + event.message() + "\n";
    }
    return out;
  }

private:
  std::unique_ptr<v1::Containers::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<v1::Event> events_;
};

class HealthIT : public support::DaemonFixture {
protected:
  HealthIT()
      : DaemonFixture(
            {.ns_prefix = "health", .dir_prefix = "contd-health", .start_daemon = true}) {}

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    api_ = std::make_unique<contctl::Client>(daemon_->socketPath());
    events_ = std::make_unique<EventLog>(daemon_->socketPath(), ns_);
  }

  void TearDown() override {
    events_.reset();
    api_.reset();
    DaemonFixture::TearDown();
  }

  // The host folder mounted at /run in container `name`: its check passes while "ok" is there.
  fs::path checkDir(const std::string& name) const { return dir_->path() / ("check-" + name); }
  void setHealthy(const std::string& name, bool healthy) {
    fs::create_directories(checkDir(name));
    if (healthy) {
      std::ofstream(checkDir(name) / "ok") << "ok\n";
    } else {
      fs::remove(checkDir(name) / "ok");
    }
  }

  // A shell that ends with exit code 0 on SIGTERM, checked every second, unhealthy after two
  // failures in a row.
  v1::ContainerSpec spec(const std::string& name, v1::RestartPolicy::Mode mode) {
    fs::create_directories(checkDir(name));  // the mount's source
    v1::ContainerSpec out;
    out.set_name(name);
    out.set_rootfs(rootfs_->path().string());
    out.set_network_namespace(netns_->name());
    for (const char* arg : {"/bin/sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"}) {
      out.add_argv(arg);
    }
    auto* mount = out.add_mounts();
    mount->set_source(checkDir(name).string());
    mount->set_target("/run");
    out.mutable_restart()->set_mode(mode);
    auto* health = out.mutable_health();
    for (const char* arg : {"/bin/test", "-f", "/run/ok"}) {
      health->add_argv(arg);
    }
    health->set_interval_ms(1000);
    health->set_timeout_ms(2000);
    health->set_retries(2);
    return out;
  }

  v1::ContainerInfo inspect(const std::string& name) {
    auto info = api_->inspect(ns_, name);
    EXPECT_TRUE(info) << name << ": " << info.error().message;
    return info ? info->info() : v1::ContainerInfo{};
  }

  std::unique_ptr<contctl::Client> api_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(HealthIT, UnhealthyContainersAreRestartedByTheirModeOrLeftRunning) {
  const std::map<std::string, v1::RestartPolicy::Mode> modes = {
      {"web", v1::RestartPolicy::ALWAYS},
      {"svc", v1::RestartPolicy::ON_FAILURE},
      {"lax", v1::RestartPolicy::NO}};
  std::map<std::string, std::uint32_t> first_pid;
  for (const auto& [name, mode] : modes) {
    setHealthy(name, true);
    ASSERT_TRUE(api_->run(ns_, spec(name, mode))) << daemon_->logTail();
    first_pid[name] = inspect(name).pid();
  }
  for (const auto& [name, mode] : modes) {
    ASSERT_TRUE(events_->await(v1::Event::HEALTHY, name)) << name << "\n" << events_->text()
                                                          << daemon_->logTail();
    const auto info = inspect(name);
    EXPECT_EQ(info.health().status(), v1::HealthState::HEALTHY) << name;
    ASSERT_GT(info.health().log_size(), 0) << name;
    EXPECT_EQ(info.health().log(info.health().log_size() - 1).exit_code(), 0) << name;
    EXPECT_EQ(info.spec().health().start_period_ms(), 0U);
    setHealthy(name, false);
  }
  for (const auto& [name, mode] : modes) {
    auto unhealthy = events_->await(v1::Event::UNHEALTHY, name);
    ASSERT_TRUE(unhealthy) << name << "\n" << events_->text() << daemon_->logTail();
    EXPECT_EQ(events_->count(v1::Event::HEALTHY, name), 1) << name;
  }
  // always and on-failure: ended (exit 0 on SIGTERM, still a failure) and restarted.
  for (const char* name : {"web", "svc"}) {
    auto exited = events_->await(v1::Event::EXITED, name);
    ASSERT_TRUE(exited) << name;
    EXPECT_EQ(exited->exit_code(), 0) << name;
    EXPECT_EQ(exited->message(), "unhealthy") << name;
    ASSERT_TRUE(events_->await(v1::Event::RESTARTED, name)) << name << "\n" << events_->text();
    const auto info = inspect(name);
    EXPECT_GE(info.restart_count(), 1U) << name;
    EXPECT_NE(info.pid(), first_pid[name]) << name;
    ASSERT_GT(info.exits_size(), 0) << name;
    EXPECT_TRUE(info.exits(0).unhealthy()) << name;
  }
  // no: left running, unhealthy, with its streak and the failed checks in its log.
  const auto lax = inspect("lax");
  EXPECT_EQ(lax.status(), v1::ContainerInfo::RUNNING);
  EXPECT_EQ(lax.pid(), first_pid["lax"]);
  EXPECT_EQ(lax.restart_count(), 0U);
  EXPECT_EQ(lax.health().status(), v1::HealthState::UNHEALTHY);
  EXPECT_GE(lax.health().failing_streak(), 2U);
  const auto& last = lax.health().log(lax.health().log_size() - 1);
  EXPECT_EQ(last.exit_code(), 1);
  EXPECT_LE(last.start().seconds(), last.end().seconds());

  // Healthy again after its restart once the file is back.
  setHealthy("web", true);
  for (auto until = Clock::now() + 15s;
       Clock::now() < until && events_->count(v1::Event::HEALTHY, "web") < 2;) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(events_->count(v1::Event::HEALTHY, "web"), 2) << events_->text();
  for (const auto& [name, mode] : modes) {
    ASSERT_TRUE(api_->remove(ns_, name)) << name;
  }
  EXPECT_EQ(settledLeftovers(), "");
}

TEST_F(HealthIT, ContctlHealthcheckRunExitsLikePodmanAndInspectShowsTheResult) {
  setHealthy("web", true);
  auto web = spec("web", v1::RestartPolicy::NO);
  web.mutable_health()->set_interval_ms(3'600'000);  // only the test's own checks
  ASSERT_TRUE(api_->run(ns_, web)) << daemon_->logTail();
  auto passed = contctl({"healthcheck", "run", ns_, "web"});
  EXPECT_EQ(passed.exit_code, 0) << passed.err;
  EXPECT_EQ(passed.out, "healthy\n");
  EXPECT_TRUE(events_->await(v1::Event::HEALTHY, "web", 5s));

  setHealthy("web", false);
  auto failed = contctl({"healthcheck", "run", ns_, "web"});
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_EQ(failed.out, "unhealthy\n");
  auto info = inspect("web");
  EXPECT_EQ(info.health().status(), v1::HealthState::HEALTHY) << "one failure of two";
  EXPECT_EQ(info.health().failing_streak(), 1U);
  EXPECT_EQ(info.health().log_size(), 2);
  const auto shown = contctl({"inspect", ns_, "web"});
  EXPECT_NE(shown.out.find("failing streak 1"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find(" code 1 ("), std::string::npos) << shown.out;

  failed = contctl({"healthcheck", "run", ns_, "web"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_TRUE(events_->await(v1::Event::UNHEALTHY, "web", 5s));
  EXPECT_EQ(inspect("web").health().status(), v1::HealthState::UNHEALTHY);

  // A container without a health check, and one that does not run.
  auto plain = spec("plain", v1::RestartPolicy::NO);
  plain.clear_health();
  ASSERT_TRUE(api_->run(ns_, plain));
  auto refused = contctl({"healthcheck", "run", ns_, "plain"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("FAILED_PRECONDITION"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("no health check"), std::string::npos) << refused.err;
  ASSERT_TRUE(api_->stop(ns_, "web", 0));
  refused = contctl({"healthcheck", "run", ns_, "web"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("does not run"), std::string::npos) << refused.err;
  for (const char* name : {"web", "plain"}) {
    ASSERT_TRUE(api_->remove(ns_, name)) << name;
  }
  EXPECT_EQ(settledLeftovers(), "");
}

}  // namespace
}  // namespace contd
