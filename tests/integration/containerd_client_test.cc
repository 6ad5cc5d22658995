// GrpcClient against a real, private containerd with runc. Every test gets its own
// containerd namespace and network namespace, and purges them in TearDown, so tests may
// run in parallel (each ctest test is its own process with its own containerd). The
// fixture is in containerd_fixture.h; events, labels, exec and metrics are in
// containerd_events_test.cc.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/integration/containerd_fixture.h"

namespace contd::containerd {
namespace {

class GrpcClientTest : public ContainerdFixture {};

TEST_F(GrpcClientTest, EnsureNamespaceIsIdempotentAndListed) {
  auto again = client_->ensureNamespace(ns_);
  ASSERT_TRUE(again) << again.error().message;
  auto namespaces = client_->listNamespaces();
  ASSERT_TRUE(namespaces) << namespaces.error().message;
  EXPECT_NE(std::find(namespaces->begin(), namespaces->end(), ns_), namespaces->end());
}

// Defence in depth: a namespace no adapter should let through is refused by the client
// itself. Sent as gRPC metadata it would abort the process.
TEST_F(GrpcClientTest, NamespacesGrpcCannotSendAreRefusedBeforeAnyCall) {
  for (const std::string bad : {"a\nb", "h1-\xc3\xa9", "x\x01y"}) {
    SCOPED_TRACE(::testing::PrintToString(bad));
    const std::vector<Status> results = {
        client_->ensureNamespace(bad),
        Status(client_->getContainer(bad, "web").error()),
        Status(client_->getTask(bad, "web").error()),
        Status(client_->listContainers(bad, {}).error()),
        Status(client_->listTasks(bad).error()),
        client_->killTask(bad, "web", SIGTERM, false),
        client_->setLabels(bad, "web", {{"a", "b"}})};
    for (const auto& result : results) {
      ASSERT_FALSE(result.ok());
      EXPECT_EQ(result.error().code, Code::kInvalidArgument) << result.error().message;
      EXPECT_EQ(result.error().message.rfind("namespace: ", 0), 0u) << result.error().message;
    }
  }
  auto namespaces = client_->listNamespaces();
  ASSERT_TRUE(namespaces) << namespaces.error().message;
  for (const auto& ns : *namespaces) {
    EXPECT_EQ(ns.find("h1-"), std::string::npos) << ns;
  }
}

TEST_F(GrpcClientTest, ContainerRecordRoundTrips) {
  const ContainerRecord sent =
      record("web", {"/bin/sleep", "1000"}, {{"io.contd.managed", "true"}});
  auto created = client_->createContainer(ns_, sent);
  ASSERT_TRUE(created) << created.error().message;

  auto got = client_->getContainer(ns_, "web");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->id, "web");
  EXPECT_EQ(got->labels, sent.labels);
  EXPECT_EQ(got->runtime, "io.containerd.runc.v2");
  EXPECT_EQ(nlohmann::json::parse(got->spec_json), nlohmann::json::parse(sent.spec_json));
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_GT(got->created_at, now - std::chrono::nanoseconds(60s).count());
  EXPECT_LE(got->created_at, now + std::chrono::nanoseconds(5s).count());
}

TEST_F(GrpcClientTest, TaskLifecycleFromCreateToDelete) {
  const std::string id = "web";
  auto created = client_->createContainer(
      ns_, record(id, {"/bin/sh", "-c", "echo hello from $(hostname); exec sleep 1000"}));
  ASSERT_TRUE(created) << created.error().message;

  auto task = client_->createTask(ns_, id, fileIo(id), kTaskTimeout);
  ASSERT_TRUE(task) << task.error().message;
  EXPECT_EQ(task->status, TaskStatus::kCreated);
  EXPECT_GT(task->pid, 0u);

  auto started = client_->startTask(ns_, id);
  ASSERT_TRUE(started) << started.error().message;
  auto running = client_->getTask(ns_, id);
  ASSERT_TRUE(running) << running.error().message;
  EXPECT_EQ(running->id, id);
  EXPECT_EQ(running->status, TaskStatus::kRunning);
  EXPECT_EQ(running->pid, task->pid);

  auto tasks = client_->listTasks(ns_);
  ASSERT_TRUE(tasks) << tasks.error().message;
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ(tasks->front().id, id);
  EXPECT_EQ(tasks->front().status, TaskStatus::kRunning);

  // Both streams went to the file, and the process runs in its own uts namespace.
  EXPECT_NE(
      waitForFileContaining(logFile(id), "hello from contd-test", 5s).find("hello from contd-test"),
      std::string::npos);

  auto killed = client_->killTask(ns_, id, SIGKILL, /*all=*/false);
  ASSERT_TRUE(killed) << killed.error().message;
  auto exit = client_->waitTask(ns_, id, kTaskTimeout);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 137u);
  EXPECT_GT(exit->exited_at, 0);

  auto stopped = client_->getTask(ns_, id);
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(stopped->status, TaskStatus::kStopped);
  EXPECT_EQ(stopped->exit_status, 137u);

  auto deleted = client_->deleteTask(ns_, id);
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(deleted->code, 137u);
  auto removed = client_->deleteContainer(ns_, id);
  ASSERT_TRUE(removed) << removed.error().message;

  auto gone = client_->getContainer(ns_, id);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kNotFound) << gone.error().message;
  auto no_task = client_->getTask(ns_, id);
  ASSERT_FALSE(no_task);
  EXPECT_EQ(no_task.error().code, Code::kNotFound) << no_task.error().message;
}

// Run's rollback path for a task that was created but never started. Deleting it at once
// works too, but with file:// IO containerd 1.6 then takes 2.1 s (the shim waits out its IO
// timeout); kill, wait, delete takes about 20 ms.
TEST_F(GrpcClientTest, CreatedTaskRollsBackWithKillWaitDelete) {
  ASSERT_TRUE(client_->createContainer(ns_, record("unstarted", {"/bin/sleep", "1000"})));
  auto task = client_->createTask(ns_, "unstarted", fileIo("unstarted"), kTaskTimeout);
  ASSERT_TRUE(task) << task.error().message;
  auto got = client_->getTask(ns_, "unstarted");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, TaskStatus::kCreated);

  auto killed = client_->killTask(ns_, "unstarted", SIGKILL, /*all=*/false);
  ASSERT_TRUE(killed) << killed.error().message;
  auto exit = client_->waitTask(ns_, "unstarted", kTaskTimeout);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 137u);
  auto deleted = client_->deleteTask(ns_, "unstarted");
  ASSERT_TRUE(deleted) << deleted.error().message;
  auto removed = client_->deleteContainer(ns_, "unstarted");
  ASSERT_TRUE(removed) << removed.error().message;
}

TEST_F(GrpcClientTest, WaitDeadlineLeavesTaskRunning) {
  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("sleeper", {"/bin/sleep", "1000"}, &task));

  const auto start = Clock::now();
  auto exit = client_->waitTask(ns_, "sleeper", 200ms);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(exit);
  EXPECT_EQ(exit.error().code, Code::kDeadlineExceeded) << exit.error().message;
  EXPECT_NE(exit.error().message.find("wait for task 'sleeper' in '" + ns_ + "'"),
            std::string::npos)
      << exit.error().message;
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 3s);

  auto still = client_->getTask(ns_, "sleeper");
  ASSERT_TRUE(still) << still.error().message;
  EXPECT_EQ(still->status, TaskStatus::kRunning);
  EXPECT_EQ(still->pid, task.pid);
}

TEST_F(GrpcClientTest, ConcurrentWaitsAllSeeTheExit) {
  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("shared", {"/bin/sleep", "1000"}, &task));

  std::vector<std::future<Result<ExitStatus>>> waits;
  for (int i = 0; i < 8; ++i) {
    waits.push_back(std::async(std::launch::async,
                               [&] { return client_->waitTask(ns_, "shared", kTaskTimeout); }));
  }
  std::this_thread::sleep_for(100ms);  // let the waits reach containerd first
  auto killed = client_->killTask(ns_, "shared", SIGKILL, /*all=*/true);
  ASSERT_TRUE(killed) << killed.error().message;
  for (auto& wait : waits) {
    auto exit = wait.get();
    ASSERT_TRUE(exit) << exit.error().message;
    EXPECT_EQ(exit->code, 137u);
  }
}

TEST_F(GrpcClientTest, ErrorsKeepContainerdCodesAndSayWhatFailed) {
  auto unknown = client_->getContainer(ns_, "nope");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kNotFound);
  EXPECT_EQ(unknown.error().message.rfind("get container 'nope' in '" + ns_ + "': ", 0), 0u)
      << unknown.error().message;

  auto no_task = client_->createTask(ns_, "nope", {}, kTaskTimeout);
  ASSERT_FALSE(no_task);
  EXPECT_EQ(no_task.error().code, Code::kNotFound) << no_task.error().message;
  EXPECT_EQ(no_task.error().message.rfind("create task 'nope' in '" + ns_ + "': ", 0), 0u)
      << no_task.error().message;

  auto no_kill = client_->killTask(ns_, "nope", SIGTERM, false);
  ASSERT_FALSE(no_kill);
  EXPECT_EQ(no_kill.error().code, Code::kNotFound) << no_kill.error().message;

  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("dup", {"/bin/sleep", "1000"}, &task));
  auto duplicate = client_->createContainer(ns_, record("dup", {"/bin/true"}));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Code::kAlreadyExists) << duplicate.error().message;
  auto duplicate_task = client_->createTask(ns_, "dup", fileIo("dup"), kTaskTimeout);
  ASSERT_FALSE(duplicate_task);
  EXPECT_EQ(duplicate_task.error().code, Code::kAlreadyExists) << duplicate_task.error().message;

  // containerd answers UNKNOWN "cannot delete a running process" here.
  auto running_delete = client_->deleteTask(ns_, "dup");
  ASSERT_FALSE(running_delete);
  EXPECT_EQ(running_delete.error().code, Code::kUnknown) << running_delete.error().message;

  ASSERT_TRUE(client_->killTask(ns_, "dup", SIGKILL, false));
  ASSERT_TRUE(client_->waitTask(ns_, "dup", kTaskTimeout));
  // Killing a finished process: NOT_FOUND "process already finished".
  auto late_kill = client_->killTask(ns_, "dup", SIGKILL, false);
  ASSERT_FALSE(late_kill);
  EXPECT_EQ(late_kill.error().code, Code::kNotFound) << late_kill.error().message;

  auto bad_signal = client_->killTask(ns_, "dup", 0, false);
  ASSERT_FALSE(bad_signal);
  EXPECT_EQ(bad_signal.error().code, Code::kInvalidArgument);
}

TEST_F(GrpcClientTest, InvalidSpecFailsAtTaskCreateAndKeepsTheRecord) {
  ContainerRecord bad;
  bad.id = "bad";
  bad.spec_json = "{this is not json";
  auto created = client_->createContainer(ns_, bad);
  ASSERT_TRUE(created) << created.error().message;  // containerd does not look inside

  auto task = client_->createTask(ns_, "bad", fileIo("bad"), kTaskTimeout);
  ASSERT_FALSE(task);
  EXPECT_NE(task.error().message.find("create task 'bad'"), std::string::npos)
      << task.error().message;
  // The caller has to roll back: the record stays.
  EXPECT_TRUE(client_->getContainer(ns_, "bad"));
}

TEST_F(GrpcClientTest, ListContainersMatchesEveryLabel) {
  const Labels managed = {{"io.contd.managed", "true"}};
  const Labels odd = {{"io.contd.managed", "true"},
                      {"odd key \"with\" \\ quotes", "a,b==c\n\"d\""}};
  ASSERT_TRUE(client_->createContainer(ns_, record("managed", {"/bin/true"}, managed)));
  ASSERT_TRUE(client_->createContainer(ns_, record("odd", {"/bin/true"}, odd)));
  ASSERT_TRUE(client_->createContainer(
      ns_, record("foreign", {"/bin/true"}, {{"io.contd.managed", "false"}})));
  ASSERT_TRUE(client_->createContainer(ns_, record("bare", {"/bin/true"})));

  auto ids = [&](const Labels& must_match) {
    std::vector<std::string> out;
    auto list = client_->listContainers(ns_, must_match);
    EXPECT_TRUE(list) << list.error().message;
    if (list) {
      for (const auto& r : *list) {
        out.push_back(r.id);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<std::string>{"bare", "foreign", "managed", "odd"}));
  EXPECT_EQ(ids(managed), (std::vector<std::string>{"managed", "odd"}));
  EXPECT_EQ(ids(odd), (std::vector<std::string>{"odd"}));
  EXPECT_EQ(ids({{"io.contd.managed", ""}}), (std::vector<std::string>{}));
}

TEST_F(GrpcClientTest, CgroupFollowsCgroupsPath) {
  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("grouped", {"/bin/sleep", "1000"}, &task));
  std::ifstream in("/proc/" + std::to_string(task.pid) + "/cgroup");
  std::stringstream cgroups;
  cgroups << in.rdbuf();
  // "4:pids:/<ns>/grouped" on cgroup v1, "0::/<ns>/grouped" on v2.
  EXPECT_NE(cgroups.str().find(":/" + ns_ + "/grouped\n"), std::string::npos) << cgroups.str();
}

// containerd restarts (here a kill -9): the task lives on in its shim, calls fail fast
// while containerd is away, and the same client works again once it is back.
TEST_F(GrpcClientTest, ClientAndTaskSurviveContainerdCrash) {
  TaskState task;
  ASSERT_NO_FATAL_FAILURE(runContainer("survivor", {"/bin/sleep", "1000"}, &task));

  ASSERT_TRUE(containerd_->crash());
  const auto start = Clock::now();
  auto down = client_->getTask(ns_, "survivor");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, Code::kUnavailable) << down.error().message;
  EXPECT_LT(Clock::now() - start, 2s);

  auto restarted = containerd_->restart();
  ASSERT_TRUE(restarted) << restarted.error().message;
  // The channel reconnects by itself, after its reconnect backoff (at most 500 ms).
  Result<TaskState> back = down.error();
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    back = client_->getTask(ns_, "survivor");
    if (back || back.error().code != Code::kUnavailable) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->status, TaskStatus::kRunning);
  EXPECT_EQ(back->pid, task.pid);
}

// No containerd needed: connecting to nothing fails clearly and within the timeout.
TEST(GrpcClientConnect, MissingSocketIsUnavailableQuickly) {
  initLogging();
  auto dir = support::TempDir::make("contd-nosock");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->string() + "/containerd.sock";

  const auto start = Clock::now();
  auto client = GrpcClient::connect(path, 300ms);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, Code::kUnavailable);
  EXPECT_EQ(client.error().message, "connect to containerd at '" + path +
                                        "': no answer within 300 ms (no socket at that path)");
  EXPECT_LT(elapsed, 2s);
}

TEST(GrpcClientConnect, EmptyPathIsInvalid) {
  auto client = GrpcClient::connect("", 100ms);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, Code::kInvalidArgument);
}

}  // namespace
}  // namespace contd::containerd
