#pragma once
// What contd relies on from containerd::Client, written once and run against both
// implementations: the in-memory fake (tests/unit/containerd/client_contract_test.cc) and
// the real GrpcClient on a private containerd (tests/integration/client_contract_test.cc).
// When containerd and the fake disagree, one of the two runs fails: the fake cannot drift
// from what the unit tests assume of containerd.
//
// A fixture provides `ContractEnv env()`; CONTD_CLIENT_CONTRACT_TESTS(Fixture) defines one
// TEST_F per case.

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "modules/containerd/client.h"

namespace contd::contract {

struct ContractEnv {
  containerd::Client* client = nullptr;
  std::string ns;  // exists, empty
  // A record whose task runs `args` (absolute paths) and can be created with io(id).
  std::function<containerd::ContainerRecord(const std::string& id, std::vector<std::string> args)>
      record;
  std::function<containerd::TaskIo(const std::string& id)> io;
};

inline constexpr auto kContractTimeout = std::chrono::seconds(10);

// Timestamps are wall-clock unix nanos, as the restart policy compares them with now.
inline void expectRecent(containerd::UnixNanos when) {
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_GT(when, now - std::chrono::nanoseconds(std::chrono::minutes(1)).count());
  EXPECT_LE(when, now + std::chrono::nanoseconds(std::chrono::seconds(5)).count());
}

inline void recordsRoundTrip(const ContractEnv& env) {
  auto& c = *env.client;
  auto sent = env.record("rec", {"/bin/sleep", "1000"});
  sent.labels = {{"io.contd.managed", "true"}, {"a", "1"}};
  ASSERT_TRUE(c.createContainer(env.ns, sent));
  auto got = c.getContainer(env.ns, "rec");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->id, "rec");
  EXPECT_EQ(got->labels, sent.labels);
  EXPECT_FALSE(got->spec_json.empty());
  expectRecent(got->created_at);
  auto again = c.createContainer(env.ns, sent);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kAlreadyExists);
  auto unknown = c.getContainer(env.ns, "nobody");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kNotFound);
  ASSERT_TRUE(c.deleteContainer(env.ns, "rec"));
  auto gone = c.deleteContainer(env.ns, "rec");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kNotFound);
}

inline void listFiltersOnEveryLabel(const ContractEnv& env) {
  auto& c = *env.client;
  auto both = env.record("both", {"/bin/true"});
  both.labels = {{"a", "1"}, {"b", "2"}};
  auto one = env.record("one", {"/bin/true"});
  one.labels = {{"a", "1"}};
  ASSERT_TRUE(c.createContainer(env.ns, both));
  ASSERT_TRUE(c.createContainer(env.ns, one));
  auto ids = [&](const containerd::Labels& labels) {
    std::vector<std::string> out;
    auto records = c.listContainers(env.ns, labels);
    EXPECT_TRUE(records) << records.error().message;
    for (const auto& r : records ? *records : std::vector<containerd::ContainerRecord>{}) {
      out.push_back(r.id);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<std::string>{"both", "one"}));
  EXPECT_EQ(ids({{"a", "1"}}), (std::vector<std::string>{"both", "one"}));
  EXPECT_EQ(ids({{"a", "1"}, {"b", "2"}}), (std::vector<std::string>{"both"}));
  EXPECT_EQ(ids({{"b", "3"}}), (std::vector<std::string>{}));
}

inline void setLabelsMergesAndEmptyRemoves(const ContractEnv& env) {
  auto& c = *env.client;
  auto r = env.record("lab", {"/bin/true"});
  r.labels = {{"a", "1"}, {"b", "2"}};
  ASSERT_TRUE(c.createContainer(env.ns, r));
  ASSERT_TRUE(c.setLabels(env.ns, "lab", {{"x", "9"}, {"b", ""}}));
  auto got = c.getContainer(env.ns, "lab");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->labels, (containerd::Labels{{"a", "1"}, {"x", "9"}}));
  auto unknown = c.setLabels(env.ns, "nobody", {{"a", "1"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kNotFound);
}

inline void setSpecReplacesTheSpecAndKeepsTheRest(const ContractEnv& env) {
  auto& c = *env.client;
  auto r = env.record("spec", {"/bin/true"});
  r.labels = {{"a", "1"}};
  ASSERT_TRUE(c.createContainer(env.ns, r));
  const std::string spec = R"({"ociVersion":"1.0.2-dev","hostname":"changed"})";
  ASSERT_TRUE(c.setSpec(env.ns, "spec", spec));
  auto got = c.getContainer(env.ns, "spec");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->spec_json, spec);
  EXPECT_EQ(got->labels, r.labels);
  EXPECT_EQ(got->runtime, r.runtime);
  auto unknown = c.setSpec(env.ns, "nobody", spec);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kNotFound);
}

// A running task takes new limits; one that has exited refuses them, and no task is
// kNotFound.
inline void updateTaskTakesLimitsOfARunningTaskOnly(const ContractEnv& env) {
  auto& c = *env.client;
  const std::string limits = R"({"pids":{"limit":64},"memory":{"limit":67108864}})";
  auto none = c.updateTask(env.ns, "upd", limits);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kNotFound) << none.error().message;
  ASSERT_TRUE(c.createContainer(env.ns, env.record("upd", {"/bin/sleep", "1000"})));
  ASSERT_TRUE(c.createTask(env.ns, "upd", env.io("upd"), kContractTimeout));
  ASSERT_TRUE(c.startTask(env.ns, "upd"));
  auto updated = c.updateTask(env.ns, "upd", limits);
  EXPECT_TRUE(updated) << updated.error().message;
  ASSERT_TRUE(c.killTask(env.ns, "upd", SIGKILL, /*all=*/true));
  ASSERT_TRUE(c.waitTask(env.ns, "upd", kContractTimeout));
  auto stopped = c.updateTask(env.ns, "upd", limits);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, Code::kUnknown) << stopped.error().message;
  EXPECT_NE(stopped.error().message.find("cannot update a stopped container"), std::string::npos)
      << stopped.error().message;
  ASSERT_TRUE(c.deleteTask(env.ns, "upd"));
  ASSERT_TRUE(c.deleteContainer(env.ns, "upd"));
}

inline void taskFromCreateToDelete(const ContractEnv& env) {
  auto& c = *env.client;
  ASSERT_TRUE(c.createContainer(env.ns, env.record("t", {"/bin/sleep", "1000"})));
  auto created = c.createTask(env.ns, "t", env.io("t"), kContractTimeout);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->status, containerd::TaskStatus::kCreated);
  EXPECT_GT(created->pid, 0u);
  ASSERT_TRUE(c.startTask(env.ns, "t"));
  auto running = c.getTask(env.ns, "t");
  ASSERT_TRUE(running);
  EXPECT_EQ(running->status, containerd::TaskStatus::kRunning);
  auto tasks = c.listTasks(env.ns);
  ASSERT_TRUE(tasks);
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].id, "t");
  // A running task cannot be deleted.
  EXPECT_FALSE(c.deleteTask(env.ns, "t"));
  ASSERT_TRUE(c.killTask(env.ns, "t", SIGKILL, /*all=*/true));
  auto exit = c.waitTask(env.ns, "t", kContractTimeout);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 137u);
  expectRecent(exit->exited_at);
  auto stopped = c.getTask(env.ns, "t");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->status, containerd::TaskStatus::kStopped);
  EXPECT_EQ(stopped->exit_status, 137u);
  ASSERT_TRUE(c.deleteTask(env.ns, "t"));
  auto none = c.getTask(env.ns, "t");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kNotFound);
  ASSERT_TRUE(c.deleteContainer(env.ns, "t"));
}

inline void unknownTasksAreNotFound(const ContractEnv& env) {
  auto& c = *env.client;
  for (const Status& s : {Status(c.getTask(env.ns, "ghost").error()),
                          c.startTask(env.ns, "ghost"),
                          c.killTask(env.ns, "ghost", SIGTERM, false),
                          Status(c.deleteTask(env.ns, "ghost").error())}) {
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Code::kNotFound) << s.error().message;
  }
}

inline void namespacesAreIdempotentAndChecked(const ContractEnv& env) {
  auto& c = *env.client;
  ASSERT_TRUE(c.ensureNamespace(env.ns));
  ASSERT_TRUE(c.ensureNamespace(env.ns));
  auto all = c.listNamespaces();
  ASSERT_TRUE(all);
  EXPECT_NE(std::find(all->begin(), all->end(), env.ns), all->end());
  for (const Status& s : {c.ensureNamespace("a\nb"), Status(c.getContainer("a\nb", "x").error()),
                          Status(c.listContainers("h1-\xc3\xa9", {}).error())}) {
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Code::kInvalidArgument) << s.error().message;
  }
}

}  // namespace contd::contract

#define CONTD_CLIENT_CONTRACT_TEST(Fixture, Case, function) \
  TEST_F(Fixture, Case) { ::contd::contract::function(env()); }

#define CONTD_CLIENT_CONTRACT_TESTS(Fixture)                                                 \
  CONTD_CLIENT_CONTRACT_TEST(Fixture, RecordsRoundTrip, recordsRoundTrip)                    \
  CONTD_CLIENT_CONTRACT_TEST(Fixture, ListFiltersOnEveryLabel, listFiltersOnEveryLabel)      \
  CONTD_CLIENT_CONTRACT_TEST(Fixture, SetLabelsMergesAndEmptyRemoves,                        \
                             setLabelsMergesAndEmptyRemoves)                                 \
  CONTD_CLIENT_CONTRACT_TEST(Fixture, SetSpecReplacesTheSpecAndKeepsTheRest,                 \
                             setSpecReplacesTheSpecAndKeepsTheRest)                          \
  CONTD_CLIENT_CONTRACT_TEST(Fixture, UpdateTaskTakesLimitsOfARunningTaskOnly,               \
                             updateTaskTakesLimitsOfARunningTaskOnly)                        \
  CONTD_CLIENT_CONTRACT_TEST(Fixture, TaskFromCreateToDelete, taskFromCreateToDelete)        \
  CONTD_CLIENT_CONTRACT_TEST(Fixture, UnknownTasksAreNotFound, unknownTasksAreNotFound)      \
  CONTD_CLIENT_CONTRACT_TEST(Fixture, NamespacesAreIdempotentAndChecked,                     \
                             namespacesAreIdempotentAndChecked)
