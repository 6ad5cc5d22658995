// The container module (ContainerService) on real parts: a private containerd, runc, a
// busybox rootfs and a real network namespace. Each test has its own containerd
// namespace and purges it in TearDown, so tests may run in parallel.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include "modules/container/service.h"
#include "modules/container/stuck_logger.h"
#include "modules/container/validation.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/files.h"
#include "tests/integration/support/service_fixture.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using support::readFile;

// Polls until `path` holds `needle` or `timeout` passes; returns what it last read.
std::string waitForText(const fs::path& path, std::string_view needle,
                        std::chrono::milliseconds timeout = 10s) {
  return support::waitForFile(
      path, [&](const std::string& text) { return text.find(needle) != std::string::npos; },
      timeout);
}

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The cgroup v1 path of `pid` in `controller` ("/ns/id"), or "" when not found.
std::string cgroupOf(std::uint32_t pid, std::string_view controller) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // hierarchy-id:controller-list:path
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::stringstream list(controllers);
    std::string name;
    while (std::getline(list, name, ',')) {
      if (name == controller) {
        return line.substr(second + 1);
      }
    }
  }
  return "";
}

bool processAlive(std::uint32_t pid) { return pid != 0 && ::kill(static_cast<pid_t>(pid), 0) == 0; }

class ContainerServiceIT : public support::ServiceFixture {
protected:
  // A container whose shell leaves at once on SIGTERM (`wait` is interruptible, a
  // foreground `sleep` is not).
  ContainerSpec spec(const std::string& name, const std::string& script = "") const {
    ContainerSpec s;
    s.name = name;
    s.rootfs = rootfs_->path().string();
    s.argv = {"/bin/sh", "-c", "trap 'exit 0' TERM; " + script + " while true; do sleep 1 & wait; done"};
    s.network_namespace = netns_->name();
    return s;
  }

  ContainerInfo runAndInspect(const ContainerSpec& s) {
    auto id = service_->run(ns_, s);
    EXPECT_TRUE(id) << id.error().message;
    auto info = service_->inspect(ns_, s.name);
    EXPECT_TRUE(info) << info.error().message;
    return info ? *info : ContainerInfo{};
  }

  fs::path logOf(const std::string& name) const {
    return dir_->path() / "logs" / ns_ / (name + ".log");
  }

};

TEST_F(ContainerServiceIT, RunIsRunningInTheGivenNetworkNamespace) {
  auto info = runAndInspect(spec("web"));
  ASSERT_EQ(info.status, ContainerStatus::kRunning);
  ASSERT_GT(info.pid, 0u);
  EXPECT_TRUE(processAlive(info.pid));
  const ino_t container_net = inodeOf("/proc/" + std::to_string(info.pid) + "/ns/net");
  EXPECT_NE(container_net, 0u);
  EXPECT_EQ(container_net, inodeOf(netns_->path()));
  EXPECT_NE(container_net, inodeOf("/proc/self/ns/net"));
  // Its own pid namespace: the init process sees itself as pid 1.
  EXPECT_NE(inodeOf("/proc/" + std::to_string(info.pid) + "/ns/pid"), inodeOf("/proc/self/ns/pid"));
}

TEST_F(ContainerServiceIT, LimitsLandInTheContainersCgroup) {
  auto s = spec("limited");
  s.memory_bytes = 64ull << 20;
  s.cpu = 2;
  s.pids_limit = 50;
  auto info = runAndInspect(s);
  ASSERT_EQ(info.status, ContainerStatus::kRunning);
  const std::string mem = cgroupOf(info.pid, "memory");
  ASSERT_EQ(mem, "/" + ns_ + "/limited");
  EXPECT_EQ(readFile("/sys/fs/cgroup/memory" + mem + "/memory.limit_in_bytes"),
            std::to_string(64ull << 20) + "\n");
  const std::string cpu = cgroupOf(info.pid, "cpu");
  EXPECT_EQ(readFile("/sys/fs/cgroup/cpu" + cpu + "/cpu.cfs_quota_us"), "200000\n");
  EXPECT_EQ(readFile("/sys/fs/cgroup/cpu" + cpu + "/cpu.cfs_period_us"), "100000\n");
  const std::string pids = cgroupOf(info.pid, "pids");
  EXPECT_EQ(readFile("/sys/fs/cgroup/pids" + pids + "/pids.max"), "50\n");
}

TEST_F(ContainerServiceIT, SeesEnvWorkdirAndMounts) {
  auto shared = support::TempDir::make("contd-mnt");
  ASSERT_TRUE(shared);
  auto readonly = support::TempDir::make("contd-ro");
  ASSERT_TRUE(readonly);
  std::ofstream(readonly->path() / "given.txt") << "from host\n";

  auto s = spec("env",
                "echo \"foo=$FOO\" > /data/out; pwd >> /data/out; cat /ro/given.txt >> /data/out;"
                " (echo x > /ro/x) 2>/dev/null && echo ro-writable >> /data/out"
                " || echo ro-refused >> /data/out; hostname >> /data/out; echo done >> /data/out;");
  s.env = {"FOO=bar baz"};
  s.working_dir = "/tmp";
  s.hostname = "envhost";
  s.mounts = {{shared->string(), "/data", false}, {readonly->string(), "/ro", true}};
  auto info = runAndInspect(s);
  ASSERT_EQ(info.status, ContainerStatus::kRunning);

  const std::string out = waitForText(shared->path() / "out", "done");
  EXPECT_EQ(out, "foo=bar baz\n/tmp\nfrom host\nro-refused\nenvhost\ndone\n");
  EXPECT_FALSE(fs::exists(readonly->path() / "x"));
  ASSERT_TRUE(service_->remove(ns_, "env"));
}

TEST_F(ContainerServiceIT, OutputGoesToTheNamespaceLogFile) {
  auto info = runAndInspect(spec("talker", "echo hello-out; echo hello-err >&2;"));
  EXPECT_EQ(info.log_path, logOf("talker").string());
  const std::string log = waitForText(logOf("talker"), "hello-err");
  EXPECT_NE(log.find("hello-out"), std::string::npos) << log;
  EXPECT_NE(log.find("hello-err"), std::string::npos) << log;
}

TEST_F(ContainerServiceIT, InspectAfterExitReportsCodeAndTime) {
  auto s = spec("quitter");
  s.argv = {"/bin/sh", "-c", "exit 7"};
  ASSERT_TRUE(service_->run(ns_, s));
  std::optional<ContainerInfo> info;
  for (int i = 0; i < 200; ++i) {
    auto got = service_->inspect(ns_, "quitter");
    ASSERT_TRUE(got) << got.error().message;
    if (got->status == ContainerStatus::kStopped) {
      info = *got;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(info) << "never stopped";
  EXPECT_EQ(info->exit_code, 7);
  EXPECT_GT(info->exited_at, info->created_at);
  EXPECT_EQ(info->pid, 0u);
}

TEST_F(ContainerServiceIT, DeleteOfContainerThatTrapsSigtermIsQuick) {
  auto s = spec("polite");
  s.shutdown_timeout = 5s;
  auto info = runAndInspect(s);
  ASSERT_EQ(info.status, ContainerStatus::kRunning);
  const auto started = Clock::now();
  ASSERT_TRUE(service_->remove(ns_, "polite"));
  EXPECT_LT(Clock::now() - started, 4s) << "waited for the timeout instead of the exit";
  EXPECT_FALSE(processAlive(info.pid));
}

TEST_F(ContainerServiceIT, DeleteKillsAContainerThatIgnoresSigtermAfterTheTimeout) {
  auto s = spec("stubborn");
  // A pid 1 without a SIGTERM handler ignores SIGTERM.
  s.argv = {"/bin/sleep", "1000"};
  s.shutdown_timeout = 1500ms;
  auto info = runAndInspect(s);
  ASSERT_EQ(info.status, ContainerStatus::kRunning);
  const auto started = Clock::now();
  ASSERT_TRUE(service_->remove(ns_, "stubborn"));
  const auto took = Clock::now() - started;
  EXPECT_GE(took, 1500ms);
  EXPECT_LT(took, 6s);
  EXPECT_FALSE(processAlive(info.pid));
}

TEST_F(ContainerServiceIT, AfterDeleteNothingIsLeft) {
  auto s = spec("gone");
  s.memory_bytes = 32ull << 20;
  auto info = runAndInspect(s);
  ASSERT_EQ(info.status, ContainerStatus::kRunning);
  ASSERT_TRUE(service_->remove(ns_, "gone"));

  EXPECT_EQ(client_->getContainer(ns_, "gone").error().code, Code::kNotFound);
  EXPECT_EQ(client_->getTask(ns_, "gone").error().code, Code::kNotFound);
  EXPECT_EQ(service_->inspect(ns_, "gone").error().code, Code::kNotFound);
  EXPECT_FALSE(processAlive(info.pid));
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/memory/" + ns_ + "/gone"));
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/memory/" + ns_)) << "empty namespace cgroup kept";
  auto second = service_->remove(ns_, "gone");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kNotFound);
}

TEST_F(ContainerServiceIT, InvalidInputCreatesNothing) {
  std::vector<std::pair<std::string, ContainerSpec>> bad;
  auto s = spec("bad");
  s.network_namespace = "no-such-netns-anywhere";
  bad.emplace_back("network_namespace", s);
  s = spec("bad");
  s.rootfs = "/no/such/rootfs";
  bad.emplace_back("rootfs", s);
  s = spec("bad");
  s.mounts = {{"/no/such/source", "/data", false}};
  bad.emplace_back("mounts[0].source", s);
  s = spec("bad");
  s.mounts = {{rootfs_->path().string(), "relative", false}};
  bad.emplace_back("mounts[0].target", s);
  s = spec("bad");
  s.argv.clear();
  s.entrypoint = "";
  bad.emplace_back("entrypoint", s);
  s = spec("bad");
  s.memory_bytes = 1024;
  bad.emplace_back("memory_bytes", s);
  s = spec("-bad");
  bad.emplace_back("name", s);
  // What runc or the kernel would refuse later, with an opaque error or a restart loop.
  s = spec("bad");
  s.argv = {"/bin/does-not-exist"};
  bad.emplace_back("argv[0]", s);
  for (const std::string& netns :
       {std::string("/proc/1/ns/net"), std::string("/proc/self/ns/net"),
        std::string("/proc/self/ns/uts"), rootfs_->path().string() + "/bin/busybox"}) {
    s = spec("bad");
    s.network_namespace = netns;
    bad.emplace_back("network_namespace", s);
  }
  s = spec("bad");
  s.rootfs = "/proc/1";
  bad.emplace_back("rootfs", s);
  s = spec("bad");
  s.argv = {"/bin/echo", std::string(kMaxArgStringBytes + 1, 'a')};
  bad.emplace_back("argv[1]", s);
  s = spec("bad");
  s.tags.assign(10000, std::string(250, 't'));
  bad.emplace_back("tags", s);

  for (const auto& [field, input] : bad) {
    auto id = service_->run(ns_, input);
    ASSERT_FALSE(id) << "accepted bad " << field;
    EXPECT_EQ(id.error().code, Code::kInvalidArgument) << id.error().message;
    EXPECT_NE(id.error().message.find(field), std::string::npos) << id.error().message;
  }
  // Not even the namespace was made.
  auto namespaces = client_->listNamespaces();
  ASSERT_TRUE(namespaces);
  EXPECT_EQ(std::count(namespaces->begin(), namespaces->end(), ns_), 0);
}

TEST_F(ContainerServiceIT, FailureInsideRuncRollsEverythingBack) {
  auto s = spec("broken");
  s.working_dir = "/bin/busybox";  // a file: runc fails to enter it, validation does not look
  auto id = service_->run(ns_, s);
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message.find("broken"), std::string::npos) << id.error().message;
  EXPECT_EQ(client_->getContainer(ns_, "broken").error().code, Code::kNotFound);
  EXPECT_EQ(client_->getTask(ns_, "broken").error().code, Code::kNotFound);
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/memory/" + ns_ + "/broken"));
  // Nor the log files the Run's log driver had made.
  const fs::path log = service_->logPath(ns_, "broken");
  EXPECT_FALSE(fs::exists(log)) << log;
  EXPECT_FALSE(fs::exists(log.parent_path() / ".broken.log.health"));
  // The name is free again.
  ASSERT_TRUE(service_->run(ns_, spec("broken")));
}

TEST_F(ContainerServiceIT, ListExistsAndSignalDelete) {
  ASSERT_TRUE(service_->run(ns_, spec("a")));
  ASSERT_TRUE(service_->run(ns_, spec("b")));
  auto listed = service_->list(ns_);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& info : *listed) {
    EXPECT_EQ(info.status, ContainerStatus::kRunning) << info.spec.name;
    EXPECT_GT(info.pid, 0u);
  }
  auto namespaces = service_->listNamespaces();
  ASSERT_TRUE(namespaces);
  EXPECT_EQ(std::count(namespaces->begin(), namespaces->end(), ns_), 1);
  EXPECT_TRUE(*service_->exists(ns_, "a"));
  EXPECT_FALSE(*service_->exists(ns_, "zzz"));

  ASSERT_TRUE(service_->signalDelete(ns_, "a"));
  auto exit = client_->waitTask(ns_, "a", 5s);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 0u);  // the trap's `exit 0`
  EXPECT_TRUE(service_->signalDelete(ns_, "never-existed"));
}

TEST_F(ContainerServiceIT, ForeignContainersAreInvisible) {
  ASSERT_TRUE(client_->ensureNamespace(ns_));
  containerd::ContainerRecord foreign;
  foreign.id = "foreign";
  foreign.spec_json = R"({"ociVersion":"1.0.2"})";
  ASSERT_TRUE(client_->createContainer(ns_, foreign));
  EXPECT_EQ(service_->inspect(ns_, "foreign").error().code, Code::kNotFound);
  EXPECT_EQ(service_->remove(ns_, "foreign").error().code, Code::kNotFound);
  auto listed = service_->list(ns_);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE(client_->getContainer(ns_, "foreign"));
}

// Every process whose command line names `ns` (a runc shim is started with -namespace ns).
std::vector<pid_t> processesNaming(const std::string& ns) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::string cmdline = readFile(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(" " + ns + " ") != std::string::npos) {
      found.push_back(std::stoi(name));
    }
  }
  return found;
}

class StuckLoggerIT : public ContainerServiceIT {
protected:
  ServiceOptions serviceOptions() override {
    auto options = ServiceFixture::serviceOptions();
    options.log_shim = STUCK_LOGGER_BIN;
    options.task_create_timeout = 1500ms;
    return options;
  }
};

TEST_F(StuckLoggerIT, TaskCreateHasADeadlineAndNothingIsLeftBehind) {
  const auto started = Clock::now();
  auto id = service_->run(ns_, spec("hung"));
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, Code::kDeadlineExceeded) << id.error().message;
  EXPECT_LT(Clock::now() - started, 10s);
  EXPECT_EQ(client_->getContainer(ns_, "hung").error().code, Code::kNotFound);
  EXPECT_TRUE(findLoggers(STUCK_LOGGER_BIN, ns_, "hung").empty());
  // The runc shim that waited for the logger goes too.
  std::vector<pid_t> left;
  for (int i = 0; i < 100; ++i) {
    left = processesNaming(ns_);
    if (left.empty()) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " process(es) still name the namespace";
}

}  // namespace
}  // namespace contd::container
