// contctl end to end: the real contctl binary talks to the real contd daemon over its unix
// socket, which drives a private containerd and runc.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <fcntl.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/common/unique_fd.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/run_command.h"

namespace contd {
namespace {

namespace support = ::contd::testing;

class ContctlIT : public support::DaemonFixture {
protected:
  ContctlIT()
      : DaemonFixture({.ns_prefix = "ctl", .dir_prefix = "contd-ctl", .start_daemon = true}) {}

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
  // The ContainerInfo itself, not wrapped in "info"; 64-bit numbers as numbers.
  ASSERT_FALSE(info.contains("info")) << info.dump();
  const auto& c = info;
  EXPECT_EQ(c["status"], "RUNNING") << info.dump();
  EXPECT_GT(c["pid"].get<long long>(), 0);
  EXPECT_EQ(c["spec"]["memory_bytes"], 64 << 20) << info.dump();
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

// ps = ls: without -a only the running container, with -a the exited one too; -q names,
// --filter (same key ORed, keys ANDed), --format with a table.
TEST_F(ContctlIT, PsListsRunningOrAllFilteredAndFormatted) {
  ASSERT_EQ(contctl(runArgs("web")).exit_code, 0);
  auto job = contctl({"run", ns_, "job", "--rootfs", rootfs_->path().string(), "--netns",
                      netns_->name(), "--restart", "no", "--tag", "app=job", "--", "/bin/sh",
                      "-c", "exit 3"});
  ASSERT_EQ(job.exit_code, 0) << job.err;
  auto waited = contctl({"wait", ns_, "job"});
  ASSERT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_EQ(waited.out, "3\n");

  auto running = contctl({"ps", "-n", ns_, "-q"});
  ASSERT_EQ(running.exit_code, 0) << running.err;
  EXPECT_EQ(running.out, "web\n");
  auto all = contctl({"ps", "-n", ns_, "-a", "-q"});
  EXPECT_EQ(all.out, "job\nweb\n") << all.err;  // sorted by name
  auto table = contctl({"ls", "-a", "-n", ns_});
  EXPECT_NE(table.out.find("EXIT CODE"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("ago"), std::string::npos) << table.out;

  auto stopped = contctl({"ps", "-n", ns_, "--filter", "status=stopped", "--filter",
                          "status=failed", "--format", "{{.Name}} {{.ExitCode}}"});
  EXPECT_EQ(stopped.out, "job 3\n") << stopped.err;
  auto anded = contctl({"ps", "-a", "-n", ns_, "--filter", "name=o", "--filter", "label=app=job",
                        "-q"});
  EXPECT_EQ(anded.out, "job\n") << anded.err;
  auto formatted = contctl({"ps", "-a", "-n", ns_, "--format", "table {{.Name}}\\t{{.Status}}"});
  EXPECT_EQ(formatted.out,
            "NAME   STATUS\n"
            "job    stopped\n"
            "web    running\n")
      << formatted.err;
  auto json = contctl({"ps", "-n", ns_, "--format", "json"});
  auto parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json.out;
  ASSERT_EQ(parsed["containers"].size(), 1U) << json.out;
  EXPECT_EQ(parsed["containers"][0]["spec"]["name"], "web");

  auto bad = contctl({"ps", "--filter", "colour=red"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--filter 'colour=red': unknown key 'colour'"), std::string::npos)
      << bad.err;
}

// logs --tail 0 prints nothing, -t puts the time first, --json gives the text as a string.
TEST_F(ContctlIT, LogsTailZeroTimestampsAndJsonText) {
  ASSERT_EQ(contctl(runArgs("talker")).exit_code, 0);
  std::string all;
  for (int i = 0; i < 100 && all.find("started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    all = contctl({"logs", ns_, "talker"}).out;
  }
  ASSERT_EQ(all, "started\n");
  auto none = contctl({"logs", ns_, "talker", "--tail", "0"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "");
  auto stamped = contctl({"logs", ns_, "talker", "--timestamps"});
  EXPECT_TRUE(stamped.out.starts_with("20")) << stamped.out;
  EXPECT_TRUE(stamped.out.ends_with("Z started\n")) << stamped.out;
  auto json = contctl({"--json", "logs", ns_, "talker"});
  auto line = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << json.out;
  EXPECT_EQ(line["text"], "started") << json.out;
  EXPECT_EQ(line["stream"], "stdout") << json.out;
  auto future = contctl({"logs", ns_, "talker", "--until", "2000-01-01"});
  EXPECT_EQ(future.out, "");
  auto missing = contctl({"logs", ns_, "ghost", "--tail", "0"});
  EXPECT_EQ(missing.exit_code, 1);
}

// `logs -f` ends as podman's does: when the container is removed, and when it has ended
// for good (restart "no"), each time with every line it wrote.
TEST_F(ContctlIT, LogsFollowEndsWhenTheContainerIsRemovedOrEndsForGood) {
  ASSERT_EQ(contctl(runArgs("followed")).exit_code, 0);
  auto follow = std::async(std::launch::async, [&] { return contctl({"logs", "-f", ns_, "followed"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto removed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(contctl({"rm", ns_, "followed"}).exit_code, 0);
  ASSERT_EQ(follow.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "logs -f still following after rm";
  const auto ended = follow.get();
  EXPECT_EQ(ended.exit_code, 0) << ended.err;
  EXPECT_EQ(ended.out, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - removed_at, std::chrono::seconds(5));

  ASSERT_EQ(contctl({"run", ns_, "job", "--rootfs", rootfs_->path().string(), "--netns",
                     netns_->name(), "--restart", "no", "--", "/bin/sh", "-c",
                     "sleep 1; echo one; echo two"})
                .exit_code,
            0);
  auto job = std::async(std::launch::async, [&] { return contctl({"logs", "-f", ns_, "job"}); });
  ASSERT_EQ(job.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "logs -f still following a container that ended for good";
  const auto done = job.get();
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "one\ntwo\n");
}

// No daemon at the socket: one line saying so and what to do, the gRPC detail under --debug.
TEST_F(ContctlIT, AMissingSocketIsOneLineThatSaysWhatToDo) {
  const std::string socket = daemon_->socketPath() + ".missing";
  auto out = support::runContctl(socket, {"ps"}, std::chrono::seconds(30));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.err, "contctl: cannot reach contd at unix:" + socket +
                         ": no such socket (is contd running? --socket or CONTD_SOCKET picks "
                         "another)\n");
  auto debug = support::runContctl(socket, {"--debug", "ps"}, std::chrono::seconds(30));
  EXPECT_NE(debug.err.find("contctl: detail: UNAVAILABLE: "), std::string::npos) << debug.err;
}

// contd started without a config file (as this fixture starts it) confines containers with
// its built-in profile: the kernel reports a filter (Seccomp: 2) in the container.
TEST_F(ContctlIT, WithoutAConfigFileContainersRunUnderTheBuiltInSeccompProfile) {
  auto run = contctl({"run", ns_, "filtered", "--rootfs", rootfs_->path().string(), "--netns",
                      netns_->name(), "--", "/bin/sh", "-c",
                      "grep Seccomp: /proc/self/status; unshare -U /bin/true; echo rc=$?; "
                      "echo done; sleep 1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string text;
  for (int i = 0; i < 100 && text.find("done") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = contctl({"logs", ns_, "filtered"}).out;
  }
  EXPECT_NE(text.find("Seccomp:\t2"), std::string::npos) << text;
  EXPECT_NE(text.find("rc=1"), std::string::npos) << text;  // unshare is not allowed
}

TEST_F(ContctlIT, ErrorsCarryTheServersMessageAndExitCode) {
  auto args = runArgs("bad");
  args[4] = "/no/such/rootfs";
  auto bad = contctl(args);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("rootfs"), std::string::npos) << bad.err;

  ASSERT_EQ(contctl(runArgs("twice")).exit_code, 0);
  // The same spec again is a retry and returns the container (docs/api.md); another spec
  // under a taken name is refused.
  EXPECT_EQ(contctl(runArgs("twice")).exit_code, 0);
  auto other = runArgs("twice");
  other.insert(other.begin() + 7, {"--env", "OTHER=1"});
  auto again = contctl(other);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;

  auto usage = contctl({"run", ns_});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;

  auto missing = contctl({"rm", ns_, "ghost"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
}

// gRPC aborts a process that sends a metadata value outside printable ASCII, and the
// namespace travels to containerd as metadata: every call must refuse such a namespace (and
// an id outside the identifier rule) itself, naming the field, and contd must stay up.
TEST_F(ContctlIT, NamespacesAndIdsOutsideTheRuleAreRefusedAndContdStaysUp) {
  const std::vector<std::string> bad_namespaces = {"a\nb", "h1-\xc3\xa9", std::string("x\x01y"),
                                                   "a b", std::string(300, 'n')};
  for (const auto& ns : bad_namespaces) {
    SCOPED_TRACE(::testing::PrintToString(ns.substr(0, 16)));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"inspect", ns, "web"}, {"rm", ns, "web"},
          {"logs", ns, "web"}, {"ls", "-n", ns}, {"stats", ns, "web"},
          {"exec", ns, "web", "--", "/bin/true"}, {"images", "-n", ns}}) {
      auto out = contctl(args);
      EXPECT_EQ(out.exit_code, 1) << args[0] << ": " << out.out << out.err;
      EXPECT_NE(out.err.find("INVALID_ARGUMENT"), std::string::npos) << args[0] << ": " << out.err;
      EXPECT_NE(out.err.find("INVALID_ARGUMENT: namespace: "), std::string::npos)
          << args[0] << ": " << out.err;
    }
  }
  for (const std::string id : {"a\nb", "..", "h1-\xc3\xa9"}) {
    auto out = contctl({"inspect", ns_, id});
    EXPECT_EQ(out.exit_code, 1) << out.err;
    EXPECT_NE(out.err.find("id: must match"), std::string::npos) << out.err;
  }
  // Still up, still serving, and nothing was made.
  ASSERT_EQ(::kill(daemon_->pid(), 0), 0) << daemon_->logTail();
  auto ls = contctl({"--json", "ls"});
  EXPECT_EQ(ls.exit_code, 0) << ls.err << daemon_->logTail();
  auto ns = contctl({"ns"});
  EXPECT_EQ(ns.exit_code, 0) << ns.err;
  EXPECT_EQ(ns.out.find("h1-"), std::string::npos) << ns.out;
  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0) << daemon_->logTail();
}

TEST_F(ContctlIT, RestartingContdLeavesTheContainerRunningWithTheSamePid) {
  ASSERT_EQ(contctl(runArgs("steady")).exit_code, 0);
  auto before = inspectJson("steady");
  const auto pid = before["pid"];
  ASSERT_FALSE(pid.is_null()) << before.dump();
  ASSERT_GT(pid.get<long long>(), 0) << before.dump();

  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0) << daemon_->logTail();
  ASSERT_TRUE(daemon_->restart());
  auto after = inspectJson("steady");
  EXPECT_EQ(after["status"], "RUNNING");
  EXPECT_EQ(after["pid"], pid);

  ASSERT_TRUE(daemon_->crash());
  ASSERT_TRUE(daemon_->restart());
  auto after_crash = inspectJson("steady");
  EXPECT_EQ(after_crash["status"], "RUNNING");
  EXPECT_EQ(after_crash["pid"], pid);
}

// A contctl left running, killed by its pid whatever the test's outcome.
struct Follower {
  pid_t pid = -1;
  std::filesystem::path out, err;
  ~Follower() {
    if (pid > 0) {
      (void)support::killChild(pid);
    }
  }
};

// Starts `contctl --socket SOCKET ARGS...` with its output in DIR/NAME.out and .err.
std::unique_ptr<Follower> startFollower(const std::string& socket,
                                        const std::filesystem::path& dir,
                                        const std::string& name,
                                        const std::vector<std::string>& args) {
  auto f = std::make_unique<Follower>();
  f->out = dir / (name + ".out");
  f->err = dir / (name + ".err");
  UniqueFd out(::open(f->out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  UniqueFd err(::open(f->err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  std::vector<std::string> argv = {CONTCTL_BIN, "--socket", socket};
  argv.insert(argv.end(), args.begin(), args.end());
  auto pid = support::spawnProcess({.argv = argv, .stdout_fd = out.get(),
                                    .stderr_fd = err.get(), .parent_death_signal = SIGKILL});
  EXPECT_TRUE(pid) << pid.error().message;
  f->pid = pid ? *pid : -1;
  return f;
}

std::string readAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Waits until `path` holds `text`; false after 30 s.
bool waitForText(const std::filesystem::path& path, const std::string& text) {
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    if (readAll(path).find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// contctl events and logs -f outlive a kill -9 of contd (podman-like): one notice on stderr,
// then the output goes on; logs -f resumes after its last line, none twice, none lost.
TEST_F(ContctlIT, EventsAndLogsFollowReconnectWhenContdRestarts) {
  ASSERT_EQ(contctl({"run", ns_, "ticker", "--rootfs", rootfs_->path().string(), "--netns",
                     netns_->name(), "--", "/bin/sh", "-c",
                     "i=0; while true; do echo line$i; i=$((i+1)); usleep 100000; done"})
                .exit_code,
            0);
  const auto dir = daemon_->logRoot().parent_path();
  const auto start = [&](const std::string& name, const std::vector<std::string>& args) {
    return startFollower(daemon_->socketPath(), dir, name, args);
  };
  const auto read = readAll;
  const auto waitFor = waitForText;
  auto events_ctl = start("events", {"events", "-n", ns_});
  auto logs_ctl = start("logs", {"logs", "-f", ns_, "ticker"});
  Follower& events = *events_ctl;
  Follower& logs = *logs_ctl;
  ASSERT_TRUE(waitFor(logs.out, "line5\n")) << read(logs.out) << read(logs.err);
  // An event before the restart: a second container starts.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // events has subscribed
  ASSERT_EQ(contctl(runArgs("before")).exit_code, 0);
  ASSERT_TRUE(waitFor(events.out, "before")) << read(events.out) << read(events.err);

  ASSERT_TRUE(daemon_->crash());  // kill -9 by pid
  std::this_thread::sleep_for(std::chrono::seconds(1));  // lines go on into the log meanwhile
  ASSERT_TRUE(daemon_->restart());
  ASSERT_TRUE(waitFor(logs.err, "contd restarted, reconnecting")) << read(logs.err);
  ASSERT_TRUE(waitFor(events.err, "contd restarted, reconnecting")) << read(events.err);
  // The events stream is back: an event after the restart arrives.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(contctl(runArgs("after")).exit_code, 0);
  EXPECT_TRUE(waitFor(events.out, "after")) << read(events.out) << read(events.err);
  // logs -f goes on past what was written while contd was down.
  const auto printed = read(logs.out);
  const auto count = [](const std::string& text) {
    return std::count(text.begin(), text.end(), '\n');
  };
  const std::string next = "line" + std::to_string(count(printed) + 15) + "\n";
  EXPECT_TRUE(waitFor(logs.out, next)) << read(logs.out);
  EXPECT_FALSE(support::reapIfExited(events.pid).has_value()) << "events exited: " << read(events.err);
  EXPECT_FALSE(support::reapIfExited(logs.pid).has_value()) << "logs -f exited: " << read(logs.err);
  // Every line once, in order, none missing.
  const auto lines = read(logs.out);
  std::istringstream in(lines);
  std::string got;
  for (int i = 0; std::getline(in, got); ++i) {
    ASSERT_EQ(got, "line" + std::to_string(i)) << lines;
  }
  EXPECT_EQ(count(read(logs.err)), 1) << "one notice: " << read(logs.err);
}

}  // namespace
}  // namespace contd
