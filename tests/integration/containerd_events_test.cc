// GrpcClient's labels, events, exec and metrics against a real, private containerd with
// runc (fixture: containerd_fixture.h). Needs root, containerd, runc, ip, busybox-static and
// cgroup v1 for the metrics; skips without them (fails with CI=true).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/containerd_fixture.h"

namespace contd::containerd {
namespace {

constexpr std::int64_t kMemoryLimit = 16 << 20;
constexpr auto kEventTimeout = 10s;

// Everything a subscription delivered, for tests to wait on.
class EventLog {
public:
  EventCallback onEvent() {
    return [this](const Event& event) {
      std::lock_guard lock(mu_);
      events_.push_back(event);
      cv_.notify_all();
    };
  }
  BrokenCallback onBroken() {
    return [this](const Error& error) {
      std::lock_guard lock(mu_);
      broken_.push_back(error);
      cv_.notify_all();
    };
  }

  // The first event matching `match`, waiting up to `timeout` for it.
  std::optional<Event> waitFor(const std::function<bool(const Event&)>& match,
                               std::chrono::milliseconds timeout = kEventTimeout) {
    std::unique_lock lock(mu_);
    std::optional<Event> found;
    cv_.wait_for(lock, timeout, [&] {
      auto it = std::find_if(events_.begin(), events_.end(), match);
      if (it != events_.end()) {
        found = *it;
      }
      return found.has_value();
    });
    return found;
  }

  std::size_t count(const std::function<bool(const Event&)>& match) {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), match));
  }

  std::vector<Error> waitBroken(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !broken_.empty(); });
    return broken_;
  }

  std::vector<Error> broken() {
    std::lock_guard lock(mu_);
    return broken_;
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  std::vector<Error> broken_;
};

std::function<bool(const Event&)> exitOf(const std::string& ns, const std::string& id,
                                         const std::string& process_id) {
  return [=](const Event& e) {
    return e.kind == Event::Kind::kTaskExit && e.ns == ns && e.container_id == id &&
           e.process_id == process_id;
  };
}

UnixNanos nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class GrpcEventsTest : public ContainerdFixture {
protected:
  // Creates and starts `id` with a memory limit; `state` gets the running task.
  void runLimited(const std::string& id, std::vector<std::string> args, TaskState* state) {
    auto created =
        client_->createContainer(ns_, record(id, std::move(args), {}, kMemoryLimit));
    ASSERT_TRUE(created) << created.error().message;
    auto task = client_->createTask(ns_, id, fileIo(id), kTaskTimeout);
    ASSERT_TRUE(task) << task.error().message;
    auto started = client_->startTask(ns_, id);
    ASSERT_TRUE(started) << started.error().message;
    *state = *task;
  }

  ExecRequest exec(const std::string& exec_id, std::vector<std::string> args) const {
    const std::string uri = "file://" + logFile("exec-" + exec_id);
    return ExecRequest{exec_id, support::testProcessJson(args), uri, uri};
  }

  // Exec, start and wait for `args` in `id`.
  Result<ExitStatus> runExec(const std::string& id, const ExecRequest& request) {
    CONTD_RETURN_IF_ERROR(client_->execProcess(ns_, id, request));
    CONTD_RETURN_IF_ERROR(client_->startProcess(ns_, id, request.exec_id));
    return client_->waitProcess(ns_, id, request.exec_id, kTaskTimeout);
  }
};

TEST_F(GrpcEventsTest, SetLabelsAddsChangesAndRemovesKeepingOthers) {
  ASSERT_TRUE(client_->createContainer(
      ns_, record("labelled", {"/bin/true"},
                  {{"keep", "1"}, {"change", "old"}, {"drop", "x"}, {"io.contd.managed", "true"}})));
  auto set = client_->setLabels(ns_, "labelled",
                                {{"change", "new"}, {"drop", ""}, {"add", "a b \"c\""}, {"never", ""}});
  ASSERT_TRUE(set) << set.error().message;
  auto got = client_->getContainer(ns_, "labelled");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->labels, (Labels{{"add", "a b \"c\""},
                                 {"change", "new"},
                                 {"io.contd.managed", "true"},
                                 {"keep", "1"}}));
  // The spec is untouched.
  EXPECT_EQ(got->spec_json.empty(), false);
  auto listed = client_->listContainers(ns_, {{"change", "new"}});
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 1u);

  ASSERT_TRUE(client_->setLabels(ns_, "labelled", {}));  // nothing to do
  auto unknown = client_->setLabels(ns_, "nope", {{"a", "b"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kNotFound) << unknown.error().message;
}

TEST_F(GrpcEventsTest, ExitEventsCarryContainerAndStatus) {
  EventLog log;
  auto subscription = client_->subscribe({"/tasks/exit"}, log.onEvent(), log.onBroken());
  ASSERT_TRUE(subscription) << subscription.error().message;
  const UnixNanos before = nowNanos();

  TaskState self;
  ASSERT_NO_FATAL_FAILURE(runContainer("quitter", {"/bin/sleep", "1000"}, &self));
  ASSERT_TRUE(client_->createContainer(ns_, record("three", {"/bin/sh", "-c", "sleep 0.2; exit 3"})));
  auto task = client_->createTask(ns_, "three", fileIo("three"), kTaskTimeout);
  ASSERT_TRUE(task) << task.error().message;
  ASSERT_TRUE(client_->startTask(ns_, "three"));

  auto exit3 = log.waitFor(exitOf(ns_, "three", "three"));
  ASSERT_TRUE(exit3) << "no /tasks/exit for 'three'";
  EXPECT_EQ(exit3->topic, "/tasks/exit");
  EXPECT_EQ(exit3->exit_status, 3u);
  EXPECT_EQ(exit3->pid, task->pid);
  EXPECT_GT(exit3->timestamp, before);

  ASSERT_TRUE(client_->killTask(ns_, "quitter", SIGKILL, false));
  auto killed = log.waitFor(exitOf(ns_, "quitter", "quitter"));
  ASSERT_TRUE(killed) << "no /tasks/exit for 'quitter'";
  EXPECT_EQ(killed->exit_status, 137u);
  EXPECT_EQ(killed->pid, self.pid);
  // Only the subscribed topic arrives (not /tasks/start, /tasks/create, ...).
  EXPECT_EQ(log.count([](const Event& e) { return e.topic != "/tasks/exit"; }), 0u);
  EXPECT_TRUE(log.broken().empty());
}

// The kernel OOM-kills the container's init: containerd sends /tasks/oom (many of them),
// then the exit (137).
TEST_F(GrpcEventsTest, OomKilledTaskSendsOomThenExit) {
  EventLog log;
  auto subscription =
      client_->subscribe({"/tasks/exit", "/tasks/oom"}, log.onEvent(), log.onBroken());
  ASSERT_TRUE(subscription) << subscription.error().message;

  TaskState task;
  // The shell doubles a string until the cgroup's 16 MiB are gone.
  ASSERT_NO_FATAL_FAILURE(
      runLimited("hog", {"/bin/sh", "-c", "x=a; while true; do x=$x$x; done"}, &task));
  auto oom = log.waitFor([&](const Event& e) {
    return e.kind == Event::Kind::kTaskOom && e.ns == ns_ && e.container_id == "hog";
  });
  ASSERT_TRUE(oom) << "no /tasks/oom for 'hog'";
  EXPECT_EQ(oom->topic, "/tasks/oom");
  auto exit = log.waitFor(exitOf(ns_, "hog", "hog"));
  ASSERT_TRUE(exit) << "no /tasks/exit for 'hog'";
  EXPECT_EQ(exit->exit_status, 137u);
}

TEST_F(GrpcEventsTest, ContainerdCrashBreaksTheSubscriptionOnce) {
  EventLog log;
  auto subscription = client_->subscribe({"/tasks/exit"}, log.onEvent(), log.onBroken());
  ASSERT_TRUE(subscription) << subscription.error().message;

  ASSERT_TRUE(containerd_->crash());
  auto broken = log.waitBroken(5s);
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].code, Code::kUnavailable) << broken[0].message;

  // While containerd is down, subscribe fails after its connect wait (1 s); retrying it,
  // as a watcher does, must not keep the channel from reconnecting later.
  EventLog down_log;
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    auto down = client_->subscribe({"/tasks/exit"}, down_log.onEvent(), down_log.onBroken());
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, Code::kUnavailable) << down.error().message;
    EXPECT_LT(Clock::now() - start, 3s);
  }

  auto restarted = containerd_->restart();
  ASSERT_TRUE(restarted) << restarted.error().message;
  EventLog again_log;
  Result<std::unique_ptr<Subscription>> again = unavailable("not yet");
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    again = client_->subscribe({"/tasks/exit"}, again_log.onEvent(), again_log.onBroken());
    if (again || again.error().code != Code::kUnavailable) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(again) << again.error().message;

  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("after", {"/bin/sleep", "1000"}, &task));
  ASSERT_TRUE(client_->killTask(ns_, "after", SIGKILL, false));
  auto exit = again_log.waitFor(exitOf(ns_, "after", "after"));
  ASSERT_TRUE(exit) << "no /tasks/exit after re-subscribing";
  EXPECT_EQ(exit->exit_status, 137u);

  // The broken subscription said so once and delivered nothing more; the failed one never.
  EXPECT_EQ(log.broken().size(), 1u);
  EXPECT_EQ(log.count([](const Event&) { return true; }), 0u);
  EXPECT_TRUE(down_log.broken().empty());
  subscription = Error{};  // destroying a broken subscription is fine
  EXPECT_TRUE(again_log.broken().empty());
}

TEST_F(GrpcEventsTest, DestroyedSubscriptionStopsQuietly) {
  EventLog log;
  auto subscription = client_->subscribe({}, log.onEvent(), log.onBroken());
  ASSERT_TRUE(subscription) << subscription.error().message;
  subscription = Error{};
  EXPECT_TRUE(log.broken().empty());
}

TEST_F(GrpcEventsTest, ExecCapturesOutputAndExitStatus) {
  EventLog log;
  auto subscription = client_->subscribe({"/tasks/exit"}, log.onEvent(), log.onBroken());
  ASSERT_TRUE(subscription) << subscription.error().message;
  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("host", {"/bin/sleep", "1000"}, &task));

  auto hi = runExec("host", exec("echo", {"/bin/echo", "hi"}));
  ASSERT_TRUE(hi) << hi.error().message;
  EXPECT_EQ(hi->code, 0u);
  EXPECT_GT(hi->exited_at, 0);
  EXPECT_EQ(waitForFileContaining(logFile("exec-echo"), "hi\n", 5s), "hi\n");
  auto echo_exit = log.waitFor(exitOf(ns_, "host", "echo"));
  ASSERT_TRUE(echo_exit) << "no /tasks/exit for the exec'd process";
  EXPECT_EQ(echo_exit->exit_status, 0u);
  auto deleted = client_->deleteProcess(ns_, "host", "echo");
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(deleted->code, 0u);

  auto five = runExec("host", exec("five", {"/bin/sh", "-c", "exit 5"}));
  ASSERT_TRUE(five) << five.error().message;
  EXPECT_EQ(five->code, 5u);

  // With one file:// URI for both, stdout and stderr share the file. The sleep matters:
  // containerd 1.6.20's copyPipes (pkg/process/io.go) gives the stdout copy the raw file, not
  // the counting closer it shares with stderr, so when stdout's copy reaches EOF first at
  // exit it closes the file and stderr written just before the exit is lost
  // ("echo out; echo err >&2" lost "err" in 2 runs of 16).
  auto both =
      runExec("host", exec("both", {"/bin/sh", "-c", "echo out; echo err >&2; sleep 0.3"}));
  ASSERT_TRUE(both) << both.error().message;
  const std::string text = waitForFileContaining(logFile("exec-both"), "err", 5s);
  EXPECT_NE(text.find("out\n"), std::string::npos) << text;
  EXPECT_NE(text.find("err\n"), std::string::npos) << text;

  auto duplicate = client_->execProcess(ns_, "host", exec("five", {"/bin/true"}));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Code::kAlreadyExists) << duplicate.error().message;

  // The task itself is still running.
  auto still = client_->getTask(ns_, "host");
  ASSERT_TRUE(still) << still.error().message;
  EXPECT_EQ(still->status, TaskStatus::kRunning);
}

// Where each stream goes when stdout and stderr name different files (recorded here because
// the runc shim treats file:// specially: docs/containerd-facts.md says both land in the
// stdout file).
TEST_F(GrpcEventsTest, ExecWithTwoFilesWritesBothStreamsToTheStdoutFile) {
  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("host", {"/bin/sleep", "1000"}, &task));
  ExecRequest request = exec("split", {"/bin/sh", "-c", "echo out; echo err >&2; sleep 0.3"});
  request.stderr_uri = "file://" + logFile("exec-split-stderr");
  auto done = runExec("host", request);
  ASSERT_TRUE(done) << done.error().message;
  const std::string out = waitForFileContaining(logFile("exec-split"), "err", 5s);
  EXPECT_NE(out.find("out\n"), std::string::npos) << out;
  EXPECT_NE(out.find("err\n"), std::string::npos) << out;
  std::ifstream err_file(logFile("exec-split-stderr"));
  std::stringstream err;
  err << err_file.rdbuf();
  EXPECT_EQ(err.str(), "");
}

TEST_F(GrpcEventsTest, ExecWaitDeadlineThenKillAndDelete) {
  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("host", {"/bin/sleep", "1000"}, &task));
  const ExecRequest sleeper = exec("sleeper", {"/bin/sleep", "100"});
  ASSERT_TRUE(client_->execProcess(ns_, "host", sleeper));
  ASSERT_TRUE(client_->startProcess(ns_, "host", "sleeper"));

  const auto start = Clock::now();
  auto waited = client_->waitProcess(ns_, "host", "sleeper", 300ms);
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().code, Code::kDeadlineExceeded) << waited.error().message;
  EXPECT_GE(Clock::now() - start, 290ms);

  auto running_delete = client_->deleteProcess(ns_, "host", "sleeper");
  ASSERT_FALSE(running_delete);

  auto killed = client_->killProcess(ns_, "host", "sleeper", SIGKILL);
  ASSERT_TRUE(killed) << killed.error().message;
  auto exit = client_->waitProcess(ns_, "host", "sleeper", kTaskTimeout);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 137u);
  auto deleted = client_->deleteProcess(ns_, "host", "sleeper");
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(deleted->code, 137u);

  auto gone = client_->waitProcess(ns_, "host", "sleeper", 300ms);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kNotFound) << gone.error().message;
  auto no_task = client_->execProcess(ns_, "nope", sleeper);
  ASSERT_FALSE(no_task);
  EXPECT_EQ(no_task.error().code, Code::kNotFound) << no_task.error().message;
  auto still = client_->getTask(ns_, "host");
  ASSERT_TRUE(still) << still.error().message;
  EXPECT_EQ(still->status, TaskStatus::kRunning);
}

TEST_F(GrpcEventsTest, MetricsOfALimitedContainer) {
  TaskState task;
  // Burns some CPU first, then idles.
  ASSERT_NO_FATAL_FAILURE(runLimited(
      "measured",
      {"/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 1000"},
      &task));
  Result<TaskMetrics> metrics = unavailable("not yet");
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    metrics = client_->metrics(ns_, "measured");
    ASSERT_TRUE(metrics) << metrics.error().message;
    if (metrics->cpu_usage_ns > 10'000'000) {  // 10 ms
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(metrics->memory_limit_bytes, static_cast<std::uint64_t>(kMemoryLimit));
  EXPECT_GT(metrics->memory_usage_bytes, 0u);
  EXPECT_GE(metrics->memory_max_usage_bytes, metrics->memory_usage_bytes);
  EXPECT_GE(metrics->pids_current, 1u);
  EXPECT_GT(metrics->cpu_usage_ns, 10'000'000u);
  EXPECT_EQ(metrics->oom_kills, 0u);

  // An exec'd process that runs out of memory is killed; the task lives on and its
  // metrics count the kill.
  auto hog = runExec("measured", exec("hog", {"/bin/sh", "-c", "x=a; while true; do x=$x$x; done"}));
  ASSERT_TRUE(hog) << hog.error().message;
  EXPECT_EQ(hog->code, 137u);
  auto after = client_->metrics(ns_, "measured");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_GE(after->oom_kills, 1u);
  EXPECT_GT(after->memory_limit_hits, 0u);
  EXPECT_GE(after->memory_max_usage_bytes, static_cast<std::uint64_t>(kMemoryLimit) - (1 << 20));

  auto unknown = client_->metrics(ns_, "nope");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kNotFound) << unknown.error().message;
}

}  // namespace
}  // namespace contd::containerd
