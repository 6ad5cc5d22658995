// Every mode the daemon offers (docs/configuration.md `runtime`, `shim_group`): runc and
// crun, each with a shim per container and with one shim per namespace. In each mode, on
// real parts: Run, Inspect naming the runtime and group, Exec, Logs, Stats, an OOM kill seen
// and restarted, Delete; the containers and their pids survive kill -9 of contd and of
// containerd; the processes show which runtime made them and how the shims are shared; and
// with a shared shim, its crash is detected and every container of it is restarted.
//
// crun 1.8 needs a host whose cgroup v1 unified hierarchy holds no controller
// (scripts/crun-cgroups, which scripts/test runs). Needs root, containerd, runc, crun, ip and
// busybox-static; skips without them (fails with CI=true).

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "modules/common/proc_file.h"
#include "modules/contctl/client.h"
#include "modules/common/record_schema.h"
#include "modules/container/runtime_choice.h"
#include "modules/seccomp/bpf.h"
#include "tests/integration/support/daemon_fixture.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Mode {
  std::string runtime;
  std::string shim_group;
};

void PrintTo(const Mode& mode, std::ostream* out) {
  *out << mode.runtime << "/" << mode.shim_group;
}

// Gone, or a zombie its parent has not reaped yet (an exited shim's parent may be the test).
bool exited(pid_t pid) {
  const auto stat = readProcStat("/proc/" + std::to_string(pid));
  return !stat || stat->state == 'Z';
}

std::string modeName(const ::testing::TestParamInfo<Mode>& info) {
  return info.param.runtime + "_" + info.param.shim_group;
}

// The parent pid of `pid` (0 when gone).
pid_t parentOf(pid_t pid) {
  const auto stat = readProcStat("/proc/" + std::to_string(pid));
  return stat ? stat->parent : 0;
}

class RuntimeModesIT : public support::DaemonFixture,
                       public ::testing::WithParamInterface<Mode> {
protected:
  RuntimeModesIT()
      : DaemonFixture({.ns_prefix = "rtm", .dir_prefix = "contd-rtm", .start_daemon = false}) {}

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    if (GetParam().runtime == "crun") {
      const std::string held = container::unifiedControllers("/sys/fs/cgroup");
      if (!held.empty() || ::access("/usr/bin/crun", X_OK) != 0) {
        const std::string why = held.empty() ? "crun is not installed"
                                             : "the unified cgroup hierarchy holds \"" + held +
                                                   "\": run scripts/crun-cgroups setup";
        if (support::isCi()) {
          FAIL() << why;
        }
        GTEST_SKIP() << why;
      }
    }
    // A short keepalive, so that a test sees the group's shim end after its keeper.
    const fs::path config = dir_->path() / "keepalive.json";
    std::ofstream(config) << R"({"shim_keepalive_ms": )" << kKeepalive.count() << "}";
    ASSERT_NO_FATAL_FAILURE(
        startDaemon({"--config", config.string(), "--runtime", GetParam().runtime,
                     "--shim-group", GetParam().shim_group, "--log-level", "debug"}));
    api_ = std::make_unique<contctl::Client>(daemon_->socketPath());
  }

  void TearDown() override {
    api_.reset();
    DaemonFixture::TearDown();
  }

  // Longer than any pause between two Runs of one test (a Delete waits up to 1 s for the
  // shell's trap), short enough to wait for.
  static constexpr auto kKeepalive = 4000ms;

  bool grouped() const { return GetParam().shim_group == "namespace"; }

  // Waits until `pid` has exited, up to `timeout`.
  static bool waitExited(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!exited(pid) && Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    return exited(pid);
  }

  void run(const std::string& name, const std::string& script, std::uint64_t memory = 0) {
    v1::ContainerSpec spec;
    spec.set_name(name);
    spec.set_rootfs(rootfs_->path().string());
    spec.set_network_namespace(netns_->name());
    spec.set_memory_bytes(memory);
    for (const auto& arg : {std::string("/bin/sh"), std::string("-c"), script}) {
      spec.add_argv(arg);
    }
    auto ran = api_->run(ns_, spec);
    ASSERT_TRUE(ran) << name << ": " << ran.error().message;
  }

  v1::ContainerInfo inspect(const std::string& name) {
    auto info = api_->inspect(ns_, name);
    EXPECT_TRUE(info) << name << ": " << info.error().message;
    return info ? info->info() : v1::ContainerInfo();
  }

  // Waits until `done(info)` holds for `name`; the last info either way.
  template <typename Done>
  v1::ContainerInfo waitFor(const std::string& name, Done done,
                            std::chrono::milliseconds timeout = 15s) {
    const auto deadline = Clock::now() + timeout;
    v1::ContainerInfo info = inspect(name);
    while (!done(info) && Clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      info = inspect(name);
    }
    return info;
  }

  // name -> pid of each of `names`, RUNNING; empty entries when not.
  std::map<std::string, std::uint32_t> pids(const std::vector<std::string>& names) {
    std::map<std::string, std::uint32_t> out;
    for (const auto& name : names) {
      auto info = api_->inspect(ns_, name);
      out[name] = info && info->info().status() == v1::ContainerInfo::RUNNING ? info->info().pid()
                                                                               : 0;
      if (out[name] == 0) {
        last_miss_ = name + ": " + (info ? info->info().ShortDebugString() : info.error().message);
      }
    }
    return out;
  }

  // The runtime's state of the container: `<runtime> --root <shim's root>/<ns> state <id>`
  // succeeds only for the runtime that made it (runc and crun keep different state).
  bool runtimeKnows(const std::string& runtime, const std::string& name) {
    auto state = support::runCommand(
        {runtime, "--root", "/run/containerd/runc/" + ns_, "state", name}, 10s);
    return state && state->exit_code == 0 && state->out.find("running") != std::string::npos;
  }

  std::unique_ptr<contctl::Client> api_;
  std::string last_miss_;  // what pids() got for the last container it found not running
};

TEST_P(RuntimeModesIT, ContainersRunExecLogStatsAndGoInThisMode) {
  const std::vector<std::string> names = {"a", "b", "c"};
  for (const auto& name : names) {
    ASSERT_NO_FATAL_FAILURE(
        run(name, "trap 'exit 0' TERM; echo hello-" + name + "; while true; do sleep 1; done"));
  }
  std::set<pid_t> shims;
  for (const auto& name : names) {
    const auto info = waitFor(name, [](const auto& i) { return i.pid() != 0; });
    EXPECT_EQ(info.runtime(), GetParam().runtime);
    EXPECT_EQ(info.shim_group(), GetParam().shim_group);
    EXPECT_TRUE(runtimeKnows(GetParam().runtime, name)) << GetParam().runtime << " " << name;
    shims.insert(parentOf(static_cast<pid_t>(info.pid())));
  }
  // Grouped: one shim runs all three; otherwise each has its own.
  EXPECT_EQ(shims.size(), grouped() ? 1u : names.size());

  auto exec = api_->exec(ns_, "b", {"/bin/sh", "-c", "echo in-$HOSTNAME; exit 3"}, 10'000);
  ASSERT_TRUE(exec) << exec.error().message;
  EXPECT_EQ(exec->exit_code(), 3);
  auto stats = api_->stats(ns_, "b");
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_GT(stats->memory_usage_bytes(), 0u);
  EXPECT_GE(stats->pids_current(), 1u);
  const fs::path log = daemon_->logRoot() / ns_ / "a.log";
  const auto deadline = Clock::now() + 5s;
  while (readProcFile(log).find("hello-a") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(readProcFile(log).find("hello-a"), std::string::npos);

  // Deleting the first container leaves the others running, on their shim when shared.
  // Its graceful SIGTERM went from contd straight to the process (direct_signal.h).
  ASSERT_TRUE(api_->remove(ns_, "a"));
  EXPECT_NE(daemon_->logLines("id=a ").find("step=sigterm ns=" + ns_ + " id=a via=pidfd"),
            std::string::npos)
      << daemon_->logLines("id=a ");
  for (const auto& name : {"b", "c"}) {
    const auto info = inspect(name);
    EXPECT_EQ(info.status(), v1::ContainerInfo::RUNNING) << name;
    if (grouped()) {
      EXPECT_EQ(shims.count(parentOf(static_cast<pid_t>(info.pid()))), 1u) << name;
    }
  }
  ASSERT_TRUE(api_->remove(ns_, "b"));
  ASSERT_TRUE(api_->remove(ns_, "c"));
  // A shared shim is kept by the group's keeper for the keepalive, then ends with it.
  for (pid_t shim : shims) {
    EXPECT_TRUE(waitExited(shim, 5s + kKeepalive)) << "shim " << shim << " outlived its containers";
  }
}

// Containers run one after another (a container per request) share the group's shim: the
// keeper (shim_keeper.h) holds it between them, is none of contd's containers, and goes
// with the shim after the keepalive. A shim per container ends with its container.
TEST_P(RuntimeModesIT, ContainersRunOneAfterAnotherShareTheGroupsShim) {
  const std::string loop = "trap 'exit 0' TERM; while true; do sleep 1; done";
  ASSERT_NO_FATAL_FAILURE(run("first", loop));
  const auto first = waitFor("first", [](const auto& i) { return i.pid() != 0; });
  const pid_t shim = parentOf(static_cast<pid_t>(first.pid()));
  ASSERT_GT(shim, 1);
  if (grouped()) {
    // The keeper is made after the Run, on contd's keeper thread: the shim is held from then.
    const auto deadline = Clock::now() + 10s;
    while (!client_->getTask(ns_, kKeeperId) && Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(client_->getTask(ns_, kKeeperId)) << daemon_->logLines("op=keeper");
  }
  ASSERT_TRUE(api_->remove(ns_, "first"));
  if (!grouped()) {
    EXPECT_TRUE(waitExited(shim, 5s)) << "shim " << shim << " outlived its container";
  }
  ASSERT_NO_FATAL_FAILURE(run("second", loop));
  const auto second = waitFor("second", [](const auto& i) { return i.pid() != 0; });
  const pid_t second_shim = parentOf(static_cast<pid_t>(second.pid()));
  if (grouped()) {
    EXPECT_EQ(second_shim, shim) << "the group's shim did not outlive its container";
    EXPECT_FALSE(exited(shim));
    auto keeper = client_->getTask(ns_, kKeeperId);
    ASSERT_TRUE(keeper) << keeper.error().message;
    EXPECT_EQ(keeper->status, containerd::TaskStatus::kRunning)
        << "keeper exit " << keeper->exit_status << "\n" << daemon_->logLines("op=keeper");
    EXPECT_EQ(parentOf(static_cast<pid_t>(keeper->pid)), shim);
  } else {
    EXPECT_NE(second_shim, shim);
    EXPECT_FALSE(client_->getContainer(ns_, kKeeperId));
  }
  // The keeper is none of contd's containers, and its name is not a container name.
  auto listed = api_->list(ns_);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->containers_size(), 1);
  EXPECT_EQ(listed->containers(0).spec().name(), "second");
  v1::ContainerSpec taken;
  taken.set_name(kKeeperId);
  taken.set_rootfs(rootfs_->path().string());
  taken.set_network_namespace(netns_->name());
  taken.add_argv("/bin/true");
  auto refused = api_->run(ns_, taken);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("INVALID_ARGUMENT: name: '" + std::string(kKeeperId) +
                                         "' is reserved"),
            std::string::npos)
      << refused.error().message;

  // Idle past the keepalive: keeper and shim go once the last container has.
  ASSERT_TRUE(api_->remove(ns_, "second"));
  EXPECT_TRUE(waitExited(second_shim, 5s + kKeepalive)) << "shim " << second_shim << " stayed";
  const auto deadline = Clock::now() + 5s;
  while (client_->getContainer(ns_, kKeeperId) && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(client_->getContainer(ns_, kKeeperId)) << "the keeper stayed";
}

TEST_P(RuntimeModesIT, AnOomKillIsSeenAndTheContainerRestarted) {
  // The shell doubles a string until the cgroup's 16 MiB are gone.
  ASSERT_NO_FATAL_FAILURE(run("hog", "sleep 1; x=a; while true; do x=$x$x; done", 16 << 20));
  const auto info = waitFor("hog", [](const auto& i) {
    return i.exits_size() > 0 && i.exits(0).oom_killed();
  });
  ASSERT_GT(info.exits_size(), 0) << "no exit recorded";
  EXPECT_TRUE(info.exits(0).oom_killed());
  EXPECT_EQ(info.exits(0).exit_code(), 137);
  ASSERT_TRUE(api_->remove(ns_, "hog"));
}

TEST_P(RuntimeModesIT, ContainersSurviveKillsOfContdAndContainerd) {
  const std::vector<std::string> names = {"s1", "s2"};
  for (const auto& name : names) {
    ASSERT_NO_FATAL_FAILURE(run(name, "trap 'exit 0' TERM; while true; do sleep 1; done"));
  }
  const auto before = pids(names);
  ASSERT_NE(before.at("s1"), 0u);
  ASSERT_NE(before.at("s2"), 0u);

  // The test's client keeps its channel: its first call after a restart of contd fails
  // (UNAVAILABLE) before the channel reconnects, as after containerd's restart for contd.
  const auto settled = [&] {
    auto after = pids(names);
    const auto deadline = Clock::now() + 10s;
    while (after != before && Clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      after = pids(names);
    }
    return after;
  };
  ASSERT_TRUE(daemon_->crash());
  ASSERT_TRUE(daemon_->restart());
  EXPECT_EQ(settled(), before) << "after kill -9 of contd: " << last_miss_;

  ASSERT_TRUE(containerd_->crash());
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(containerd_->restart());
  EXPECT_EQ(settled(), before) << "after kill -9 of containerd: " << last_miss_ << "\n"
                               << daemon_->logTail(6000);
  // Still driven after both: a Delete works and stops it.
  ASSERT_TRUE(api_->remove(ns_, "s1"));
  EXPECT_EQ(inspect("s2").status(), v1::ContainerInfo::RUNNING);
  ASSERT_TRUE(api_->remove(ns_, "s2"));
}

TEST_P(RuntimeModesIT, AShimCrashIsDetectedAndItsContainersRestarted) {
  const std::vector<std::string> names = {"k1", "k2"};
  for (const auto& name : names) {
    ASSERT_NO_FATAL_FAILURE(run(name, "trap 'exit 0' TERM; while true; do sleep 1; done"));
  }
  const auto before = pids(names);
  const pid_t shim = parentOf(static_cast<pid_t>(before.at("k1")));
  ASSERT_GT(shim, 1);
  ASSERT_EQ(::kill(shim, SIGKILL), 0);
  // Every container of the dead shim (both when shared) gets a new process.
  for (const auto& name : names) {
    const bool shared = grouped() || name == "k1";
    const auto info = waitFor(name, [&](const auto& i) {
      return !shared || (i.status() == v1::ContainerInfo::RUNNING && i.pid() != 0 &&
                         i.pid() != before.at(name) && i.restart_count() >= 1);
    }, 20s);
    if (shared) {
      EXPECT_EQ(info.status(), v1::ContainerInfo::RUNNING) << name;
      EXPECT_NE(info.pid(), before.at(name)) << name;
      EXPECT_GE(info.restart_count(), 1u) << name;
    } else {
      EXPECT_EQ(info.pid(), before.at(name)) << name << " was not on the dead shim";
    }
  }
  for (const auto& name : names) {
    EXPECT_TRUE(api_->remove(ns_, name)) << name;
  }
}

// The filter in force is the profile's in every mode: crun's precompiled by contd
// (seccomp/bpf.h), or compiled by crun once seccomp_precompile is reloaded off; runc's
// compiled by runc. unshare(CLONE_NEWUSER) needs no capability, so
// EPERM for it is the filter's doing; an elevated container's profile allows it.
TEST_P(RuntimeModesIT, TheSeccompFilterRefusesAndAllowsAsTheProfileSays) {
  ASSERT_NO_FATAL_FAILURE(run("plain", "trap 'exit 0' TERM; while true; do sleep 1; done"));
  v1::ContainerSpec elevated;
  elevated.set_name("admin");
  elevated.set_rootfs(rootfs_->path().string());
  elevated.set_network_namespace(netns_->name());
  elevated.set_elevated(true);
  for (const auto& arg : {"/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"}) {
    elevated.add_argv(arg);
  }
  ASSERT_TRUE(api_->run(ns_, elevated));
  for (const auto& name : {"plain", "admin"}) {
    auto record = client_->getContainer(ns_, name);
    ASSERT_TRUE(record) << record.error().message;
    const bool precompiled =
        record->spec_json.find(seccomp::kBpfAnnotation) != std::string::npos;
    EXPECT_EQ(precompiled, GetParam().runtime == "crun") << name;
    const auto pid = waitFor(name, [](const auto& i) { return i.pid() != 0; }).pid();
    const std::string status = readProcFile("/proc/" + std::to_string(pid) + "/status");
    EXPECT_NE(status.find("Seccomp:\t2"), std::string::npos) << name << ": no filter in force";
  }
  const auto unshare = [&](const std::string& name) {
    auto out = api_->exec(ns_, name, {"/bin/sh", "-c", "unshare -U /bin/true; echo rc=$?"}, 10'000);
    EXPECT_TRUE(out) << out.error().message;
    return out ? out->output() : std::string();
  };
  const std::string refused = unshare("plain");
  EXPECT_NE(refused.find("Operation not permitted"), std::string::npos) << refused;
  EXPECT_NE(refused.find("rc=1"), std::string::npos) << refused;
  EXPECT_NE(unshare("admin").find("rc=0"), std::string::npos);
  auto everyday = api_->exec(ns_, "plain",
                             {"/bin/sh", "-c", "echo hi > /tmp/f && cat /tmp/f && ls / >/dev/null "
                                               "&& ps >/dev/null && date >/dev/null && echo rc=$?"},
                             10'000);
  ASSERT_TRUE(everyday);
  EXPECT_NE(everyday->output().find("hi\nrc=0"), std::string::npos) << everyday->output();
  EXPECT_TRUE(api_->remove(ns_, "plain"));
  EXPECT_TRUE(api_->remove(ns_, "admin"));
  if (GetParam().runtime != "crun") {
    return;
  }
  // seccomp_precompile off (reloaded): crun compiles the profile itself, to the same effect.
  std::ofstream(dir_->path() / "keepalive.json")
      << R"({"shim_keepalive_ms": )" << kKeepalive.count() << R"(, "seccomp_precompile": false})";
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  const auto deadline = Clock::now() + 10s;
  bool reloaded = false;
  while (!reloaded && Clock::now() < deadline) {
    auto info = api_->info();
    reloaded = info && info->config_json().find(R"("seccomp_precompile": false)") !=
                           std::string::npos;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(reloaded) << "the reload did not take seccomp_precompile";
  ASSERT_NO_FATAL_FAILURE(run("compiled", "trap 'exit 0' TERM; while true; do sleep 1; done"));
  auto record = client_->getContainer(ns_, "compiled");
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(record->spec_json.find(seccomp::kBpfAnnotation), std::string::npos);
  const auto pid = waitFor("compiled", [](const auto& i) { return i.pid() != 0; }).pid();
  EXPECT_NE(readProcFile("/proc/" + std::to_string(pid) + "/status").find("Seccomp:\t2"),
            std::string::npos);
  EXPECT_NE(unshare("compiled").find("Operation not permitted"), std::string::npos);
  EXPECT_TRUE(api_->remove(ns_, "compiled"));
}

INSTANTIATE_TEST_SUITE_P(Modes, RuntimeModesIT,
                         ::testing::Values(Mode{"runc", "none"}, Mode{"runc", "namespace"},
                                           Mode{"crun", "none"}, Mode{"crun", "namespace"}),
                         modeName);

}  // namespace
}  // namespace contd
