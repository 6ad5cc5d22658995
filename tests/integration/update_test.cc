// Update on real parts (docs/api.md#update): the build's contd on a private containerd and
// runc, driven through its gRPC API and contctl. The limits are read back where the kernel
// keeps them, in the cgroup files of the container's process (cgroup v1 or v2), before and
// after a Stop and Start; the UPDATED event is seen on the Events stream.
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/contctl/client.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/files.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;

constexpr std::uint64_t kMiB = 1ULL << 20;

// A limit file of the cgroup `pid` is in: <v1_file> under the v1 hierarchy of
// `controller`, or <v2_file> under the unified one on a cgroup v2 host. Its content without
// the newline; "" when it cannot be read.
std::string cgroupValue(pid_t pid, const std::string& controller, const std::string& v1_file,
                        const std::string& v2_file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  const bool unified = fs::exists("/sys/fs/cgroup/cgroup.controllers");
  std::string line;
  while (std::getline(in, line)) {
    // hierarchy-id:controllers:path
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    fs::path file;
    if (unified && controllers.empty()) {
      file = fs::path("/sys/fs/cgroup") / fs::path(path).relative_path() / v2_file;
    } else if (!unified && ("," + controllers + ",").find("," + controller + ",") !=
                               std::string::npos) {
      file = fs::path("/sys/fs/cgroup") / controller / fs::path(path).relative_path() / v1_file;
    } else {
      continue;
    }
    std::string value = support::readFile(file);
    while (!value.empty() && value.back() == '\n') {
      value.pop_back();
    }
    return value;
  }
  return "";
}

std::string memoryLimit(pid_t pid) {
  return cgroupValue(pid, "memory", "memory.limit_in_bytes", "memory.max");
}
std::string pidsLimit(pid_t pid) { return cgroupValue(pid, "pids", "pids.max", "pids.max"); }
// The CFS quota in µs (v1's cpu.cfs_quota_us, the first word of v2's cpu.max).
std::string cpuQuota(pid_t pid) {
  const std::string value = cgroupValue(pid, "cpu", "cpu.cfs_quota_us", "cpu.max");
  return value.substr(0, value.find(' '));
}
// No memory limit: v1 shows the largest page-aligned value, v2 "max".
bool unlimitedMemory(const std::string& value) {
  return value == "max" || (!value.empty() && std::stoull(value) >= (1ULL << 62));
}

class UpdateIT : public support::DaemonFixture {
protected:
  UpdateIT()
      : DaemonFixture({.ns_prefix = "upd", .dir_prefix = "contd-upd", .start_daemon = true}) {}

  // contd's API on the daemon's socket, connected on first use.
  contctl::Client& api() {
    if (!api_) {
      api_ = std::make_unique<contctl::Client>(daemon_->socketPath());
    }
    return *api_;
  }

  void run(const std::string& name, const std::string& script, std::uint64_t memory) {
    v1::ContainerSpec spec;
    spec.set_name(name);
    spec.set_rootfs(rootfs_->path().string());
    spec.set_network_namespace(netns_->name());
    spec.set_memory_bytes(memory);
    for (const auto& arg : {std::string("/bin/sh"), std::string("-c"), script}) {
      spec.add_argv(arg);
    }
    auto ran = api().run(ns_, spec);
    ASSERT_TRUE(ran) << ran.error().message << daemon_->logTail();
  }

  v1::ContainerInfo inspect(const std::string& name) {
    auto info = api().inspect(ns_, name);
    EXPECT_TRUE(info) << name << ": " << info.error().message;
    return info ? info->info() : v1::ContainerInfo{};
  }

  pid_t pidOf(const std::string& name) { return static_cast<pid_t>(inspect(name).pid()); }

  // Update with the limits `edit` sets.
  Result<v1::UpdateResponse> update(const std::string& name,
                                    const std::function<void(v1::UpdateRequest&)>& edit) {
    v1::UpdateRequest limits;
    edit(limits);
    return api().update(ns_, name, limits);
  }

  std::unique_ptr<contctl::Client> api_;
};

constexpr char kService[] = "trap 'exit 0' TERM; sleep 600 & wait";

TEST_F(UpdateIT, TheRunningCgroupInspectAndTheNextTaskHaveTheNewLimits) {
  ASSERT_NO_FATAL_FAILURE(run("svc", kService, 64 * kMiB));
  const pid_t pid = pidOf("svc");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(memoryLimit(pid), std::to_string(64 * kMiB)) << "cannot read the cgroup of " << pid;
  ASSERT_EQ(pidsLimit(pid), "4096");
  const std::string quota = cpuQuota(pid);

  auto updated = update("svc", [](v1::UpdateRequest& r) {
    r.set_memory_bytes(128 * kMiB);
    r.set_pids_limit(100);
  });
  ASSERT_TRUE(updated) << updated.error().message << daemon_->logTail();
  EXPECT_EQ(updated->info().spec().memory_bytes(), 128 * kMiB);
  EXPECT_EQ(updated->info().spec().pids_limit(), 100);
  EXPECT_EQ(updated->info().pid(), static_cast<std::uint32_t>(pid)) << "the same process";
  // The running process's cgroup, at once.
  EXPECT_EQ(memoryLimit(pid), std::to_string(128 * kMiB));
  EXPECT_EQ(pidsLimit(pid), "100");
  EXPECT_EQ(cpuQuota(pid), quota) << "a limit the update did not name changed";
  const auto info = inspect("svc");
  EXPECT_EQ(info.spec().memory_bytes(), 128 * kMiB);
  EXPECT_EQ(info.spec().pids_limit(), 100);

  // Stopped, it only has them stored; the next task is made with all of them.
  ASSERT_TRUE(api().stop(ns_, "svc", 0));
  ASSERT_TRUE(update("svc", [](v1::UpdateRequest& r) { r.set_cpu(1); }));
  auto started = api().start(ns_, "svc");
  ASSERT_TRUE(started) << started.error().message << daemon_->logTail();
  const auto next = static_cast<pid_t>(started->pid());
  ASSERT_NE(next, pid);
  EXPECT_EQ(memoryLimit(next), std::to_string(128 * kMiB));
  EXPECT_EQ(pidsLimit(next), "100");
  EXPECT_EQ(cpuQuota(next), "100000");

  // Lifting limits is said to runc explicitly: they go from the running cgroup.
  ASSERT_TRUE(update("svc", [](v1::UpdateRequest& r) {
    r.set_memory_bytes(0);
    r.set_pids_limit(-1);
    r.set_cpu(0);
  }));
  EXPECT_TRUE(unlimitedMemory(memoryLimit(next))) << memoryLimit(next);
  EXPECT_EQ(pidsLimit(next), "max");
  EXPECT_EQ(cpuQuota(next), fs::exists("/sys/fs/cgroup/cgroup.controllers") ? "max" : "-1");
  ASSERT_TRUE(api().remove(ns_, "svc"));
  EXPECT_EQ(settledLeftovers(), "");
}

// Events from the gRPC stream until `kind` comes for `id` (or 3 s pass): that event.
std::optional<v1::Event> nextEvent(grpc::ClientReader<v1::Event>& reader, v1::Event::Kind kind,
                                   const std::string& id) {
  v1::Event event;
  while (reader.Read(&event)) {
    if (event.kind() == kind && event.id() == id) {
      return event;
    }
  }
  return std::nullopt;
}

TEST_F(UpdateIT, AnUpdatedEventSaysWhatChanged) {
  ASSERT_NO_FATAL_FAILURE(run("svc", kService, 64 * kMiB));
  auto stub = v1::Containers::NewStub(
      grpc::CreateChannel("unix:" + daemon_->socketPath(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 20s);
  v1::EventsRequest request;
  request.set_namespace_(ns_);
  auto reader = stub->Events(&context, request);
  auto seen = std::async(std::launch::async,
                         [&] { return nextEvent(*reader, v1::Event::UPDATED, "svc"); });
  // The stream is registered some time after the call starts: the same (idempotent) update
  // again until its event comes.
  for (int i = 0; i < 10 && seen.wait_for(1s) != std::future_status::ready; ++i) {
    ASSERT_TRUE(update("svc", [](v1::UpdateRequest& r) { r.set_memory_bytes(96 * kMiB); }));
  }
  ASSERT_EQ(seen.wait_for(0s), std::future_status::ready) << "no UPDATED event";
  context.TryCancel();
  const auto event = seen.get();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->namespace_(), ns_);
  EXPECT_EQ(event->message(), "memory_bytes=100663296");
  (void)reader->Finish();
}

TEST_F(UpdateIT, AMemoryLimitBelowWhatTheContainerUsesIsRefusedAndChangesNothing) {
  // 40 MiB in the container's /dev/shm tmpfs: charged to its cgroup, and without swap the
  // kernel cannot reclaim it.
  ASSERT_NO_FATAL_FAILURE(run("big",
                              "head -c 41943040 /dev/zero > /dev/shm/fill && echo filled; "
                              "sleep 600 & wait",
                              256 * kMiB));
  const auto log = dir_->path() / "logs" / ns_ / "big.log";
  const auto text = support::waitForFile(
      log, [](const std::string& t) { return t.find("filled") != std::string::npos; });
  ASSERT_NE(text.find("filled"), std::string::npos) << text;
  const pid_t pid = pidOf("big");
  auto refused = update("big", [](v1::UpdateRequest& r) { r.set_memory_bytes(8 * kMiB); });
  if (fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
    GTEST_SKIP() << "cgroup v2 reclaims or OOM-kills instead of refusing (docs/api.md#update)";
  }
  ASSERT_FALSE(refused) << "an 8 MiB limit under 40 MiB of tmpfs was taken";
  EXPECT_NE(refused.error().message.find("FAILED_PRECONDITION: memory_bytes: 8388608 "),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("current usage: "), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(memoryLimit(pid), std::to_string(256 * kMiB));
  EXPECT_EQ(inspect("big").spec().memory_bytes(), 256 * kMiB);
  EXPECT_EQ(inspect("big").status(), v1::ContainerInfo::RUNNING);
  EXPECT_TRUE(update("big", [](v1::UpdateRequest& r) { r.set_memory_bytes(128 * kMiB); }));
  EXPECT_EQ(memoryLimit(pid), std::to_string(128 * kMiB));
}

TEST_F(UpdateIT, ContctlUpdatePrintsTheLimitsAndTheCgroupHasThem) {
  ASSERT_NO_FATAL_FAILURE(run("svc", kService, 64 * kMiB));
  const pid_t pid = pidOf("svc");
  const auto out = contctl({"update", ns_, "svc", "--memory", "96m", "--pids", "50"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("Memory:      100663296 (96 MiB)\n"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("Pids limit:  50\n"), std::string::npos) << out.out;
  EXPECT_EQ(memoryLimit(pid), std::to_string(96 * kMiB));
  EXPECT_EQ(pidsLimit(pid), "50");

  const auto json = contctl({"--json", "update", ns_, "svc", "--cpu", "2"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto answer = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(answer.is_discarded()) << json.out;
  EXPECT_EQ(answer["info"]["spec"]["cpu"], 2) << json.out;
  EXPECT_EQ(answer["info"]["spec"]["memory_bytes"], 100663296) << json.out;
  EXPECT_EQ(cpuQuota(pid), "200000");

  const auto none = contctl({"update", ns_, "svc"});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  const auto bad = contctl({"update", ns_, "svc", "--memory", "1k"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("INVALID_ARGUMENT: memory_bytes: "), std::string::npos) << bad.err;
  const auto ghost = contctl({"update", ns_, "ghost", "--pids", "5"});
  EXPECT_EQ(ghost.exit_code, 1);
  EXPECT_NE(ghost.err.find("NOT_FOUND"), std::string::npos) << ghost.err;
  EXPECT_EQ(memoryLimit(pid), std::to_string(96 * kMiB)) << "a refused update changed it";
}

}  // namespace
}  // namespace contd
