// The zbus bridge end to end: a real redis-server (unix socket in a temp dir), a private
// containerd, busybox containers in a real network namespace, and a client sending exactly
// what the Go zbus client sends. Replies are compared byte for byte where the vectors in
// tests/fixtures/zbus fix the bytes.
//
// Needs root, containerd, runc, ip, busybox-static and redis-server; skips without them
// (fails with CI=true).

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "modules/container/service.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/zbus_client.h"
#include "tests/integration/zbus_redis_server.h"
#include "modules/zbus/bridge.h"
#include "modules/zbus/codec.h"
#include "modules/zbus/server.h"

namespace contd::zbus {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using support::ZbusClient;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string vector(const std::string& file) {
  return readFile(fs::path(CONTD_ZBUS_VECTORS_DIR) / file);
}

class ZbusBridgeIT : public support::DaemonFixture {
protected:
  ZbusBridgeIT()
      : DaemonFixture(
            {.ns_prefix = "zbus", .netns_prefix = "contd-zb", .dir_prefix = "contd-zbus"}) {}

  static void SetUpTestSuite() { setUpSuite(missing()); }

  static std::string missing() {
    std::string what = support::missingContainerdPrerequisites();
    const std::string redis = support::missingRedisPrerequisites();
    if (!redis.empty()) {
      what += (what.empty() ? "" : "; ") + redis;
    }
    return what;
  }

  std::string missingPrerequisites() const override { return missing(); }

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(fs::exists(fs::path(CONTD_ZBUS_VECTORS_DIR) / "vectors.json"))
        << "zbus vectors not found in " << CONTD_ZBUS_VECTORS_DIR;
    auto redis = support::RedisServer::start();
    ASSERT_TRUE(redis) << redis.error().message;
    redis_ = std::move(*redis);

    container::ServiceOptions options;
    options.log_root = dir_->path() / "logs";
    options.log_shim = CONTD_SHIM_LOGS_BIN;  // the build's, so Logs reads CRI lines
    service_ = std::make_unique<container::ContainerService>(*client_, options);
  }

  void TearDown() override {
    daemon_.reset();
    bridge_.reset();
    service_.reset();
    redis_.reset();
    DaemonFixture::TearDown();
  }

  void startBridge(std::size_t workers) {
    auto bridge = Bridge::start(*service_, {.broker = redis_->url(), .workers = workers});
    ASSERT_TRUE(bridge) << bridge.error().message;
    bridge_ = std::move(*bridge);
  }

  std::unique_ptr<ZbusClient> newClient() {
    auto client = ZbusClient::connect(redis_->url());
    EXPECT_TRUE(client) << client.error().message;
    return client ? std::move(*client) : nullptr;
  }

  // A Go Container for a busybox container whose shell ignores SIGTERM unless `trap_term`.
  Container goContainer(const std::string& name, const std::string& script,
                        bool trap_term = true) const {
    Container c;
    c.name = name;
    c.root_fs = rootfs_->path().string();
    c.network_namespace = netns_->name();
    c.entrypoint = "/bin/sh -c '" + std::string(trap_term ? "trap \"exit 0\" TERM; " : "") +
                   script + " while true; do sleep 1 & wait; done'";
    c.env = std::vector<std::string>{"GREETING=hi"};
    return c;
  }

  Response call(ZbusClient& client, const std::string& method, std::vector<std::string> inputs) {
    auto response = client.call(ZbusClient::request(method, std::move(inputs)));
    EXPECT_TRUE(response) << method << ": " << response.error().message;
    return response ? *response : Response{};
  }

  // Inspect of the container run as "web": only what zosbase fills, in Go's encoding.
  void expectInspectedWeb(ZbusClient& client, const std::string& ns, const std::string& id) {
    auto inspect = call(client, "Inspect", {ns, id});
    ASSERT_FALSE(inspect.output.error) << *inspect.output.error;
    ASSERT_TRUE(inspect.output.data);
    auto c = decodeContainer(*inspect.output.data);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->name, "web");
    EXPECT_EQ(c->root_fs, rootfs_->path().string());
    EXPECT_EQ(c->env, (std::vector<std::string>{
                          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                          "GREETING=hi"}));
    EXPECT_EQ(c->entrypoint,
              "/bin/sh -c trap \"exit 0\" TERM; echo hello; echo world; while true; do sleep 1 & "
              "wait; done");
    EXPECT_EQ(c->network_namespace, netns_->name());
    ASSERT_TRUE(c->mounts);
    bool has_cgroup = false;
    for (const auto& m : *c->mounts) {
      EXPECT_NE(m.target, "/proc");
      EXPECT_NE(m.target, "/dev");
      has_cgroup = has_cgroup || m.target == "/sys/fs/cgroup";
    }
    EXPECT_TRUE(has_cgroup);
    EXPECT_FALSE(c->created_at.isZero());
    EXPECT_EQ(c->cpu, 0U);
    EXPECT_EQ(c->memory, 0U);
    EXPECT_EQ(c->shutdown_timeout_ns, 0);
    EXPECT_FALSE(c->logs);
    EXPECT_EQ(c->working_dir, "");
    // The reply is exactly Go's encoding of those values.
    Container expected = *c;
    EXPECT_EQ(encodeContainer(expected), *inspect.output.data);
  }

  // List: the one container; ListNS: the test's namespace among others.
  void expectListedWeb(ZbusClient& client, const std::string& ns) {
    auto list = call(client, "List", {ns});
    EXPECT_EQ(list.output, (Output{.data = encodeStringSlice(std::vector<std::string>{"web"})}));
    auto listns = call(client, "ListNS", {});
    auto namespaces = decodeStringSlice(*listns.output.data);
    ASSERT_TRUE(namespaces && *namespaces);
    EXPECT_NE(std::find((*namespaces)->begin(), (*namespaces)->end(), ns_), (*namespaces)->end());
  }

  // Logs: the container's output, once it is there.
  void expectLogsOfWeb(ZbusClient& client, const std::string& ns, const std::string& id) {
    std::string text;
    for (int i = 0; i < 100 && text != "hello\nworld\n"; ++i) {
      auto logs = call(client, "Logs", {ns, id});
      ASSERT_FALSE(logs.output.error) << *logs.output.error;
      text = *decodeString(*logs.output.data);
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(text, "hello\nworld\n");
  }

  // Exec: success is nil data and nil error; failures are method errors in zosbase's words.
  void expectExecOutcomes(ZbusClient& client, const std::string& ns, const std::string& id) {
    auto exec =
        call(client, "Exec", {ns, id, encodeDuration(5'000'000'000), encodeString("/bin/true")});
    EXPECT_EQ(exec.output, (Output{.data = std::nullopt, .error = std::nullopt}));
    EXPECT_FALSE(exec.error);
    auto failing = call(client, "Exec", {ns, id, encodeDuration(5'000'000'000),
                                         encodeString("/bin/sh"), encodeString("-c"),
                                         encodeString("exit 3")});
    EXPECT_EQ(failing.output,
              (Output{.data = std::nullopt, .error = "non-zero exit code: 3"}));
    auto slow = call(client, "Exec", {ns, id, encodeDuration(300'000'000),
                                      encodeString("/bin/sleep"), encodeString("10")});
    EXPECT_EQ(slow.output, (Output{.data = std::nullopt, .error = "execution timed out"}));
  }

  // SignalDelete answers with the vector's bytes (with this call's id); Delete then finds
  // nothing, and List is empty.
  void expectSignalDeleteThenDelete(ZbusClient& client, const std::string& ns,
                                    const std::string& id) {
    const std::string sd_request = encodeRequest(ZbusClient::request("SignalDelete", {ns, id}));
    auto sd_id = decodeRequest(sd_request)->id;
    auto sd = client.rawCall("container.container@0.0.1", sd_request, sd_id);
    ASSERT_TRUE(sd) << sd.error().message;
    auto expected_sd = decodeResponse(vector("signaldelete.response.msgpack"));
    expected_sd->id = sd_id;
    EXPECT_EQ(*sd, encodeResponse(*expected_sd));

    auto del = call(client, "Delete", {ns, id});
    EXPECT_EQ(del.output, Output{});
    EXPECT_FALSE(del.error);
    // The reply key expires after 300 s, as zbus sets it (the reply itself was consumed).
    auto again = call(client, "Delete", {ns, id});
    EXPECT_EQ(again.output.error,
              "container \"web\" in namespace \"" + ns_ + "\": not found");
    auto empty = call(client, "List", {ns});
    EXPECT_EQ(empty.output.data, encodeStringSlice(std::vector<std::string>{}));
  }

  std::unique_ptr<container::ContainerService> service_;
  std::unique_ptr<Bridge> bridge_;
  std::unique_ptr<support::RedisServer> redis_;
};

TEST_F(ZbusBridgeIT, RunInspectListLogsSignalDeleteDelete) {
  startBridge(2);
  auto client = newClient();
  ASSERT_TRUE(client);
  const std::string ns = encodeString(ns_);
  const std::string id = encodeString("web");

  // Run returns the name as the id.
  auto run = call(*client, "Run", {ns, encodeContainer(goContainer("web", "echo hello; echo world;"))});
  EXPECT_EQ(run.output, (Output{.data = encodeString("web"), .error = std::nullopt}));
  EXPECT_FALSE(run.error);

  ASSERT_NO_FATAL_FAILURE(expectInspectedWeb(*client, ns, id));
  ASSERT_NO_FATAL_FAILURE(expectListedWeb(*client, ns));
  ASSERT_NO_FATAL_FAILURE(expectLogsOfWeb(*client, ns, id));
  ASSERT_NO_FATAL_FAILURE(expectExecOutcomes(*client, ns, id));
  ASSERT_NO_FATAL_FAILURE(expectSignalDeleteThenDelete(*client, ns, id));
}

// Requests sent exactly as the vectors hold them get the vectors' replies, byte for byte.
TEST_F(ZbusBridgeIT, VectorRequestsGetTheVectorsReplies) {
  startBridge(1);
  auto client = newClient();
  ASSERT_TRUE(client);
  for (const std::string name : {"inspect_notfound", "delete_notfound", "list_empty",
                                 "list_error", "run_error", "proto_unknown_method",
                                 "proto_bad_argcount", "proto_unknown_object"}) {
    SCOPED_TRACE(name);
    const std::string request = vector(name + ".request.msgpack");
    auto decoded = decodeRequest(request);
    ASSERT_TRUE(decoded);
    auto reply = client->rawCall("container.container@0.0.1", request, decoded->reply_to);
    ASSERT_TRUE(reply) << reply.error().message;
    EXPECT_EQ(*reply, vector(name + ".response.msgpack"));
    // zbus sets the reply key to expire in 300 s (the BLPOP emptied it: nothing left).
    EXPECT_EQ(*client->command({"EXISTS", decoded->reply_to}), "0");
  }
}

TEST_F(ZbusBridgeIT, UndecodablePayloadsAreDroppedAndTheBridgeLivesOn) {
  startBridge(1);
  auto client = newClient();
  ASSERT_TRUE(client);
  for (const std::string& garbage : {std::string("\xc1"), std::string("\xa3" "abc"),
                                    std::string("\xdd\xff\xff\xff\xff"), std::string(100000, '\x91')}) {
    ASSERT_TRUE(client->command({"RPUSH", "container.container@0.0.1", garbage}));
  }
  auto listns = call(*client, "ListNS", {});
  EXPECT_FALSE(listns.error);
  EXPECT_EQ(*client->command({"LLEN", "container.container@0.0.1"}), "0");
}

// What runc or the kernel would refuse is refused over zbus too, naming the field; nothing
// is created and the bridge serves the next call.
TEST_F(ZbusBridgeIT, BadSpecsAreRefusedNamingTheFieldAndNothingIsCreated) {
  startBridge(1);
  auto client = newClient();
  ASSERT_TRUE(client);
  const std::string ns = encodeString(ns_);
  std::vector<std::pair<std::string, Container>> bad;
  for (const char* netns : {"/proc/1/ns/net", "/proc/self/ns/net", "/dev/null"}) {
    Container c = goContainer("bad", "");
    c.network_namespace = netns;
    bad.emplace_back("network_namespace", c);
  }
  Container c = goContainer("bad", "");
  c.entrypoint = "/bin/no-such-program --flag";
  bad.emplace_back("entrypoint", c);
  c = goContainer("bad", "");
  c.root_fs = "/proc";
  bad.emplace_back("rootfs", c);
  c = goContainer("bad", "");
  c.env = std::vector<std::string>{"A=1", "B=" + std::string(200 << 10, 'b')};
  bad.emplace_back("env[1]", c);
  c = goContainer("bad", "");
  c.root_fs_propagation = "rbind";
  bad.emplace_back("rootfs_propagation", c);
  for (const auto& [field, container] : bad) {
    auto run = call(*client, "Run", {ns, encodeContainer(container)});
    ASSERT_TRUE(run.output.error) << field << " accepted";
    EXPECT_NE(run.output.error->find(field + ": "), std::string::npos) << *run.output.error;
  }
  auto list = call(*client, "List", {ns});
  EXPECT_FALSE(list.output.error);
  EXPECT_EQ(list.output.data.value_or("").find("bad"), std::string::npos);
  auto good = call(*client, "Run", {ns, encodeContainer(goContainer("good", ""))});
  EXPECT_EQ(good.output.error, std::nullopt);
}

// A well-formed request over kMaxRequestBytes is dropped before it is decoded (no reply;
// the caller times out), and the bridge serves the next call.
TEST_F(ZbusBridgeIT, OversizedRequestsAreDroppedUndecoded) {
  startBridge(1);
  auto client = newClient();
  ASSERT_TRUE(client);
  const std::string big(zbus::kMaxRequestBytes, 'x');
  const std::string request = encodeRequest(ZbusClient::request("Inspect", {big, big}));
  ASSERT_GT(request.size(), zbus::kMaxRequestBytes);
  const std::string reply_to = decodeRequest(request)->reply_to;
  auto reply = client->rawCall("container.container@0.0.1", request, reply_to, 2s);
  ASSERT_FALSE(reply) << "a reply came";
  EXPECT_EQ(reply.error().code, Code::kDeadlineExceeded) << reply.error().message;
  auto listns = call(*client, "ListNS", {});
  EXPECT_FALSE(listns.error);
}

TEST_F(ZbusBridgeIT, EightConcurrentCallersWithDistinctContainers) {
  startBridge(8);
  const std::string ns = encodeString(ns_);
  std::vector<std::future<std::string>> callers;
  for (int i = 0; i < 8; ++i) {
    callers.push_back(std::async(std::launch::async, [&, i]() -> std::string {
      auto client = ZbusClient::connect(redis_->url());
      if (!client) {
        return client.error().message;
      }
      const std::string name = "c" + std::to_string(i);
      auto expect = [&](const zbus::Request& r, const Output& wanted) -> std::string {
        auto response = (*client)->call(r);
        if (!response) {
          return r.method + ": " + response.error().message;
        }
        if (response->error || response->output != wanted) {
          return r.method + " " + name + ": " +
                 response->output.error.value_or(response->error.value_or("unexpected data"));
        }
        return "";
      };
      std::string failure = expect(ZbusClient::request("Run", {ns, encodeContainer(goContainer(name, ""))}),
                                   Output{.data = encodeString(name)});
      if (failure.empty()) {
        auto inspect = (*client)->call(ZbusClient::request("Inspect", {ns, encodeString(name)}));
        if (!inspect || inspect->output.error) {
          failure = "Inspect " + name;
        }
      }
      if (failure.empty()) {
        failure = expect(ZbusClient::request("Delete", {ns, encodeString(name)}), Output{});
      }
      return failure;
    }));
  }
  for (auto& caller : callers) {
    EXPECT_EQ(caller.get(), "");
  }
}

TEST_F(ZbusBridgeIT, StatusAnswersWhileEveryWorkerIsBusy) {
  startBridge(2);
  auto client = newClient();
  ASSERT_TRUE(client);
  const std::string ns = encodeString(ns_);
  // Two containers that ignore SIGTERM, with a 6 s shutdown timeout: Delete is slow.
  for (const std::string name : {"slow1", "slow2"}) {
    Container c = goContainer(name, "", /*trap_term=*/false);
    c.shutdown_timeout_ns = 6'000'000'000;
    auto run = call(*client, "Run", {ns, encodeContainer(c)});
    ASSERT_EQ(run.output.error, std::nullopt) << *run.output.error;
  }
  std::vector<std::future<Result<Response>>> deletes;
  for (const std::string name : {"slow1", "slow2"}) {
    deletes.push_back(std::async(std::launch::async, [&, name] {
      auto own = ZbusClient::connect(redis_->url());
      return own ? (*own)->call(ZbusClient::request("Delete", {ns, encodeString(name)}))
                 : Result<Response>(own.error());
    }));
  }
  std::this_thread::sleep_for(1s);
  const auto asked = std::chrono::steady_clock::now();
  auto status = client->status(3s);
  const auto took = std::chrono::steady_clock::now() - asked;
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_LT(took, 3s);
  EXPECT_EQ(status->objects, (std::vector<ObjectId>{{"container", "0.0.1"}}));
  ASSERT_EQ(status->workers.size(), 2U);
  for (const auto& worker : status->workers) {
    EXPECT_EQ(worker.state, "busy");
    EXPECT_EQ(worker.action, "[container@0.0.1].Delete()");
    EXPECT_FALSE(worker.start_time.isZero());
  }
  for (auto& del : deletes) {
    auto response = del.get();
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->output, Output{});
  }
  // A worker pushes the reply, then marks itself free: the caller may ask in between.
  auto idle = client->status(3s);
  for (int i = 0; i < 40 && idle && idle->workers.size() == 2 &&
                  !(idle->workers[0].state == "free" && idle->workers[1].state == "free");
       ++i) {
    std::this_thread::sleep_for(50ms);
    idle = client->status(3s);
  }
  ASSERT_TRUE(idle);
  for (const auto& worker : idle->workers) {
    EXPECT_EQ(worker.state, "free");
    EXPECT_EQ(worker.action, "");
  }
}

bool socketAccepts(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// The real daemon with --broker: redis-server restarted under it, the bridge comes back by
// itself and the gRPC socket keeps answering meanwhile.
// A namespace the Go client sends with a byte gRPC cannot put in metadata used to abort
// contd, and the request stayed queued in Redis: a crash loop. Every method refuses it.
TEST_F(ZbusBridgeIT, DaemonRefusesNamespacesOutsideTheRuleAndStaysUp) {
  ASSERT_NO_FATAL_FAILURE(
      startDaemon({"--broker", redis_->url(), "--zbus-workers", "2"}, dir_->path() / "daemon"));
  auto client = newClient();
  ASSERT_TRUE(client);
  const std::string id = encodeString("web");
  for (const std::string bad : {"a\nb", "h1-\xc3\xa9", "x\x01y", "../etc"}) {
    SCOPED_TRACE(::testing::PrintToString(bad));
    const std::string ns = encodeString(bad);
    const std::vector<std::pair<std::string, std::vector<std::string>>> calls = {
        {"Inspect", {ns, id}},
        {"Delete", {ns, id}},
        {"SignalDelete", {ns, id}},
        {"Logs", {ns, id}},
        {"List", {ns}},
        {"Exec", {ns, id, encodeDuration(1'000'000'000), encodeString("/bin/true")}},
        {"Run", {ns, encodeContainer(goContainer("web", "true;"))}}};
    for (const auto& [method, inputs] : calls) {
      auto reply = client->call(ZbusClient::request(method, inputs), 10s);
      ASSERT_TRUE(reply) << method << ": " << reply.error().message << "\n" << daemon_->logTail();
      ASSERT_TRUE(reply->output.error) << method;
      EXPECT_NE(reply->output.error->find("namespace: must match"), std::string::npos)
          << method << ": " << *reply->output.error;
    }
  }
  EXPECT_EQ(*client->command({"LLEN", "container.container@0.0.1"}), "0");
  auto listns = call(*client, "ListNS", {});
  EXPECT_FALSE(listns.output.error);
  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0) << daemon_->logTail();
}

TEST_F(ZbusBridgeIT, DaemonBridgeSurvivesARedisRestart) {
  ASSERT_NO_FATAL_FAILURE(
      startDaemon({"--broker", redis_->url(), "--zbus-workers", "2"}, dir_->path() / "daemon"));
  {
    auto client = newClient();
    ASSERT_TRUE(client);
    auto list = call(*client, "List", {encodeString(ns_)});
    EXPECT_EQ(list.output.data, encodeStringSlice(std::vector<std::string>{}))
        << daemon_->logTail();
    auto status = client->status(3s);
    ASSERT_TRUE(status) << status.error().message;
    EXPECT_EQ(status->workers.size(), 2U);
  }
  ASSERT_TRUE(redis_->stop());
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(socketAccepts(daemon_->socketPath())) << "gRPC socket gone while redis was down";
  ASSERT_TRUE(redis_->restart());
  auto client = newClient();
  ASSERT_TRUE(client);
  // Backoff is at most 5 s: the call waits in the list until the bridge is back.
  auto list = client->call(ZbusClient::request("List", {encodeString(ns_)}), 15s);
  ASSERT_TRUE(list) << list.error().message << "\n" << daemon_->logTail();
  EXPECT_EQ(list->output.data, encodeStringSlice(std::vector<std::string>{}));
  auto status = client->status(3s);
  EXPECT_TRUE(status) << status.error().message;
  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0) << daemon_->logTail();
}

}  // namespace
}  // namespace contd::zbus
