// Hostile input (issue 15): every bad value the issue lists, sent to the real contd daemon
// (a private containerd, a real redis-server as its zbus broker) by a gRPC client (the
// generated stub on contd's unix socket) and, for the calls zbus has, by a zbus client that
// speaks the Go wire format. Each row of the table is {call, what is bad, expected code,
// field}: the answer must carry that code (zbus has none: an Output.Error), start with
// "<field>: " and be short (under 1 KiB, also for a 3 MB id). A zbus payload over 4 MiB,
// or one that does not decode, is dropped unanswered and the next request is served.
// After the whole table: contd is the same live process, wrote no long log line, and
// nothing was made: no containerd namespace, container, task, snapshot, shim, log driver,
// bundle, runc state, cgroup or mount, no file under its log root, nothing left in Redis.
//
// Needs root, containerd, runc, ip, busybox-static and redis-server; skips without them
// (fails with CI=true).

#include <sys/mount.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/printable.h"
#include "modules/zbus/codec.h"
#include "modules/zbus/server.h"
#include "tests/integration/bad_input_table.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/files.h"
#include "tests/integration/support/leftovers.h"
#include "tests/integration/zbus_client.h"
#include "tests/integration/zbus_redis_server.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using support::Args;
using support::Call;
using support::OverZbus;
using support::Row;
using support::ZbusClient;

constexpr std::size_t kShortAnswer = 1024;
constexpr std::size_t kLongestLogLine = 8192;
constexpr char kQueue[] = "container.container@0.0.1";

class BadInputIT : public support::DaemonFixture {
protected:
  BadInputIT()
      : DaemonFixture(
            {.ns_prefix = "bad", .netns_prefix = "contd-bad", .dir_prefix = "contd-bad"}) {}

  static void SetUpTestSuite() { setUpSuite(missing()); }

  static std::string missing() {
    std::string what = support::missingContainerdPrerequisites();
    const std::string redis = support::missingRedisPrerequisites();
    return what.empty() || redis.empty() ? what + redis : what + "; " + redis;
  }

  std::string missingPrerequisites() const override { return missing(); }

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto redis = support::RedisServer::start();
    ASSERT_TRUE(redis) << redis.error().message;
    redis_ = std::move(*redis);
    // One worker: zbus requests are served in the order they were pushed.
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--broker", redis_->url(), "--zbus-workers", "1"},
                                        dir_->path() / "daemon"));
    stub_ = v1::Containers::NewStub(
        grpc::CreateChannel("unix:" + daemon_->socketPath(), grpc::InsecureChannelCredentials()));
    auto zbus = ZbusClient::connect(redis_->url());
    ASSERT_TRUE(zbus) << zbus.error().message;
    zbus_ = std::move(*zbus);
    ASSERT_NO_FATAL_FAILURE(makeBadPaths());
  }

  void TearDown() override {
    stub_.reset();
    zbus_.reset();
    daemon_.reset();
    redis_.reset();
    DaemonFixture::TearDown();
  }

  void beforeRemovingDir() override { unmountOwnNetns(); }

  fs::path badPaths() const { return dir_->path() / "paths"; }

  // The rows' files, and the test's network namespace (contd's, and on a host pid 1's)
  // bind-mounted on kOwnNetnsFile under a name of its own, as `ip netns attach` would.
  void makeBadPaths() {
    fs::create_directories(badPaths());
    Status made = support::makeBadPaths(badPaths());
    ASSERT_TRUE(made) << made.error().message;
    const fs::path own = badPaths() / support::kOwnNetnsFile;
    ASSERT_EQ(::mount("/proc/self/ns/net", own.c_str(), nullptr, MS_BIND, nullptr), 0)
        << "bind-mount the test's netns on " << own << ": " << std::strerror(errno);
    own_netns_mounted_ = true;
  }

  void unmountOwnNetns() {
    if (!own_netns_mounted_) return;
    const fs::path own = badPaths() / support::kOwnNetnsFile;
    if (::umount2(own.c_str(), MNT_DETACH) == 0) {
      own_netns_mounted_ = false;
    }
    EXPECT_FALSE(own_netns_mounted_) << "umount " << own << ": " << std::strerror(errno);
  }

  v1::ContainerSpec goodSpec(const std::string& name) const {
    v1::ContainerSpec spec;
    spec.set_name(name);
    spec.set_rootfs(rootfs_->path().string());
    spec.set_network_namespace(netns_->name());
    for (const char* arg : {"/bin/sh", "-c", "sleep 60"}) spec.add_argv(arg);
    return spec;
  }

  zbus::Container goodContainer(const std::string& name) const {
    zbus::Container c;
    c.name = name;
    c.root_fs = rootfs_->path().string();
    c.network_namespace = netns_->name();
    c.entrypoint = "/bin/sh -c 'sleep 60'";
    return c;
  }

  std::string nsOf(const Args& args) const { return args.ns.value_or(ns_); }

  grpc::Status sendGrpc(const Row& row);
  grpc::Status sendGrpcStream(const Row& row);
  grpc::Status sendLifecycle(const Row& row);
  std::optional<zbus::Request> zbusRequest(const Row& row) const;
  void expectRefusedOverGrpc(const Row& row);
  void expectRefusedOverZbus(const Row& row);
  void expectZbusServes();
  void expectUndecodableZbusPayloadsDropped();
  void expectContdUpAndNothingCreated(pid_t pid, const std::vector<std::string>& namespaces);

  std::unique_ptr<support::RedisServer> redis_;
  std::unique_ptr<v1::Containers::Stub> stub_;
  std::unique_ptr<ZbusClient> zbus_;
  bool own_netns_mounted_ = false;
};

template <typename Request>
Request withId(const std::string& ns, const std::string& id) {
  Request request;
  request.set_namespace_(ns);
  request.set_id(id);
  return request;
}

template <typename Response, typename Request, typename Send>
grpc::Status unary(const Request& request, Send send) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 30s);
  Response response;
  return send(&context, request, &response);
}

template <typename Reply, typename Request, typename Open>
grpc::Status streamed(const Request& request, Open open, std::chrono::seconds deadline = 30s) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  auto reader = open(&context, request);
  Reply reply;
  while (reader->Read(&reply)) {
  }
  return reader->Finish();
}

grpc::Status BadInputIT::sendGrpc(const Row& row) {
  const Args& a = row.args;
  const std::string ns = nsOf(a);
  auto* stub = stub_.get();
  switch (row.call) {
    case Call::kRun: {
      v1::RunRequest request;
      request.set_namespace_(ns);
      *request.mutable_spec() = goodSpec(a.id);
      if (a.spec) a.spec(*request.mutable_spec());
      return unary<v1::RunResponse>(request, [&](auto&&... p) { return stub->Run(p...); });
    }
    case Call::kInspect:
      return unary<v1::InspectResponse>(withId<v1::InspectRequest>(ns, a.id),
                                        [&](auto&&... p) { return stub->Inspect(p...); });
    case Call::kDelete:
      return unary<v1::DeleteResponse>(withId<v1::DeleteRequest>(ns, a.id),
                                       [&](auto&&... p) { return stub->Delete(p...); });
    case Call::kSignalDelete:
      return unary<v1::SignalDeleteResponse>(withId<v1::SignalDeleteRequest>(ns, a.id),
                                             [&](auto&&... p) { return stub->SignalDelete(p...); });
    case Call::kList: {
      v1::ListRequest request;
      request.set_namespace_(ns);
      request.set_page_token(a.page_token);
      return unary<v1::ListResponse>(request, [&](auto&&... p) { return stub->List(p...); });
    }
    case Call::kExec: {
      auto request = withId<v1::ExecRequest>(ns, a.id);
      request.mutable_argv()->Assign(a.argv.begin(), a.argv.end());
      request.set_timeout_ms(a.timeout_ms);
      return unary<v1::ExecResponse>(request, [&](auto&&... p) { return stub->Exec(p...); });
    }
    case Call::kStats:
      return unary<v1::StatsResponse>(withId<v1::StatsRequest>(ns, a.id),
                                      [&](auto&&... p) { return stub->Stats(p...); });
    case Call::kExists:
      return unary<v1::ExistsResponse>(withId<v1::ExistsRequest>(ns, a.id),
                                       [&](auto&&... p) { return stub->Exists(p...); });
    case Call::kListImages: {
      v1::ListImagesRequest request;
      request.set_namespace_(ns);
      return unary<v1::ListImagesResponse>(request,
                                           [&](auto&&... p) { return stub->ListImages(p...); });
    }
    case Call::kRemoveImage: {
      v1::RemoveImageRequest request;
      request.set_namespace_(ns);
      request.set_name("docker.io/library/busybox:latest");
      return unary<v1::RemoveImageResponse>(request,
                                            [&](auto&&... p) { return stub->RemoveImage(p...); });
    }
    case Call::kImportImage: {
      v1::ImportImageRequest request;
      request.set_namespace_(ns);
      request.set_path("/no/such/image.tar");
      return unary<v1::ImportImageResponse>(request,
                                            [&](auto&&... p) { return stub->ImportImage(p...); });
    }
    default:
      return sendLifecycle(row);
  }
}

// Stop, Start, Restart, Kill, Wait and Update (docs/lifecycle.md).
grpc::Status BadInputIT::sendLifecycle(const Row& row) {
  const Args& a = row.args;
  const std::string ns = nsOf(a);
  auto* stub = stub_.get();
  switch (row.call) {
    case Call::kStop: {
      auto request = withId<v1::StopRequest>(ns, a.id);
      request.set_timeout_ms(a.timeout_ms);
      return unary<v1::StopResponse>(request, [&](auto&&... p) { return stub->Stop(p...); });
    }
    case Call::kStart:
      return unary<v1::StartResponse>(withId<v1::StartRequest>(ns, a.id),
                                      [&](auto&&... p) { return stub->Start(p...); });
    case Call::kRestart: {
      auto request = withId<v1::RestartRequest>(ns, a.id);
      request.set_timeout_ms(a.timeout_ms);
      return unary<v1::StartResponse>(request, [&](auto&&... p) { return stub->Restart(p...); });
    }
    case Call::kKill: {
      auto request = withId<v1::KillRequest>(ns, a.id);
      request.set_signal(a.signal);
      return unary<v1::KillResponse>(request, [&](auto&&... p) { return stub->Kill(p...); });
    }
    case Call::kWait:
      return unary<v1::WaitResponse>(withId<v1::WaitRequest>(ns, a.id),
                                     [&](auto&&... p) { return stub->Wait(p...); });
    case Call::kUpdate: {
      auto request = withId<v1::UpdateRequest>(ns, a.id);
      request.set_pids_limit(100);  // a good request: the row spoils it
      if (a.limits) {
        a.limits(request);
      }
      return unary<v1::UpdateResponse>(request, [&](auto&&... p) { return stub->Update(p...); });
    }
    default:
      return sendGrpcStream(row);
  }
}

grpc::Status BadInputIT::sendGrpcStream(const Row& row) {
  const Args& a = row.args;
  auto* stub = stub_.get();
  switch (row.call) {
    case Call::kLogs: {
      auto request = withId<v1::LogsRequest>(nsOf(a), a.id);
      if (a.since) *request.mutable_since() = *a.since;
      request.set_previous(a.previous_and_follow);
      request.set_follow(a.previous_and_follow);
      return streamed<v1::LogLine>(request, [&](auto&&... p) { return stub->Logs(p...); });
    }
    case Call::kEvents: {
      v1::EventsRequest request;
      request.set_namespace_(nsOf(a));
      // A stream that is not refused runs until the deadline: DEADLINE_EXCEEDED.
      return streamed<v1::Event>(request, [&](auto&&... p) { return stub->Events(p...); }, 3s);
    }
    case Call::kPullImage: {
      v1::PullImageRequest request;
      request.set_namespace_(nsOf(a));
      request.set_ref("busybox:latest");
      return streamed<v1::PullImageProgress>(request,
                                             [&](auto&&... p) { return stub->PullImage(p...); });
    }
    default:
      ADD_FAILURE() << "no gRPC request for " << support::callInfo(row.call).name;
      return grpc::Status::OK;
  }
}

std::optional<zbus::Request> BadInputIT::zbusRequest(const Row& row) const {
  const Args& a = row.args;
  const std::string ns = zbus::encodeString(nsOf(a));
  const std::string id = zbus::encodeString(a.id);
  switch (row.call) {
    case Call::kRun: {
      zbus::Container c = goodContainer(a.id);
      if (a.container) a.container(c);
      return ZbusClient::request("Run", {ns, zbus::encodeContainer(c)});
    }
    case Call::kExec: {
      // time.Duration in ns: a timeout beyond its range saturates, as a Go caller's would.
      constexpr std::uint64_t kMaxMs = std::numeric_limits<std::int64_t>::max() / 1'000'000;
      const std::int64_t ns_timeout = a.timeout_ms > kMaxMs
                                          ? std::numeric_limits<std::int64_t>::max()
                                          : static_cast<std::int64_t>(a.timeout_ms) * 1'000'000;
      std::vector<std::string> inputs = {ns, id, zbus::encodeDuration(ns_timeout)};
      for (const auto& arg : a.argv) inputs.push_back(zbus::encodeString(arg));
      return ZbusClient::request("Exec", std::move(inputs));
    }
    case Call::kList:
      return ZbusClient::request("List", {ns});
    case Call::kInspect:
    case Call::kDelete:
    case Call::kSignalDelete:
    case Call::kLogs:
      return ZbusClient::request(support::callInfo(row.call).name, {ns, id});
    default:
      return std::nullopt;
  }
}

// Caller text in a failure message: escaped and cut, a 3 MB echo must not flood the log.
std::string shown(const std::string& text) { return printable(text, 300); }

void BadInputIT::expectRefusedOverGrpc(const Row& row) {
  SCOPED_TRACE("over gRPC");
  const grpc::Status status = sendGrpc(row);
  const std::string& message = status.error_message();
  EXPECT_EQ(status.error_code(), row.code) << shown(message);
  EXPECT_LT(message.size(), kShortAnswer) << shown(message);
  if (!row.field.empty()) {
    EXPECT_TRUE(message.starts_with(row.field + ": ")) << shown(message);
  }
  EXPECT_NE(message.find(row.says), std::string::npos) << shown(message);
}

void BadInputIT::expectRefusedOverZbus(const Row& row) {
  SCOPED_TRACE("over zbus");
  auto request = zbusRequest(row);
  ASSERT_TRUE(request);
  if (row.over_zbus == OverZbus::kDropped) {
    const std::string payload = zbus::encodeRequest(*request);
    ASSERT_GT(payload.size(), zbus::kMaxRequestBytes);
    ASSERT_TRUE(zbus_->command({"RPUSH", kQueue, payload}));
    expectZbusServes();  // one worker: the dropped request came first
    EXPECT_EQ(*zbus_->command({"EXISTS", request->reply_to}), "0") << "a reply came";
    return;
  }
  auto reply = zbus_->call(*request, 30s);
  ASSERT_TRUE(reply) << reply.error().message << "\n" << daemon_->logTail();
  EXPECT_EQ(reply->error, std::nullopt) << shown(*reply->error);
  ASSERT_TRUE(reply->output.error) << "accepted";
  const std::string& message = *reply->output.error;
  const std::string prefix = row.zbus_prefix.empty() ? row.field + ": " : row.zbus_prefix;
  EXPECT_TRUE(message.starts_with(prefix)) << shown(message);
  EXPECT_NE(message.find(row.says), std::string::npos) << shown(message);
  EXPECT_LT(message.size(), kShortAnswer) << shown(message);
}

void BadInputIT::expectZbusServes() {
  auto listns = zbus_->call(ZbusClient::request("ListNS", {}), 30s);
  ASSERT_TRUE(listns) << listns.error().message << "\n" << daemon_->logTail();
  EXPECT_EQ(listns->error, std::nullopt);
  EXPECT_EQ(listns->output.error, std::nullopt);
}

// Payloads that do not decode as a request get no reply (there is no ReplyTo to trust);
// requests that decode but hold the wrong types get zbus's protocol errors.
void BadInputIT::expectUndecodableZbusPayloadsDropped() {
  for (const std::string& garbage :
       {std::string(), std::string("\xc1"), std::string("\xa3" "abc"),
        std::string("\xdd\xff\xff\xff\xff"), std::string(100000, '\x91'),
        zbus::encodeString("not a request"), std::string("\x81\xa2ID\xcf", 5)}) {
    ASSERT_TRUE(zbus_->command({"RPUSH", kQueue, garbage}));
  }
  expectZbusServes();
  const std::string container = zbus::encodeContainer(goodContainer("typed"));
  const std::vector<std::pair<zbus::Request, std::string>> mistyped = {
      {ZbusClient::request("Inspect", {zbus::encodeDuration(1), zbus::encodeString("x")}),
       "invalid argument type [0] expecting string got"},
      {ZbusClient::request("Run", {zbus::encodeString(ns_), zbus::encodeString("x")}),
       "invalid argument type [1] expecting pkg.Container got"},
      {ZbusClient::request("Exec", {zbus::encodeString(ns_), zbus::encodeString("x"), container}),
       "invalid argument type [2] expecting time.Duration got"},
      {ZbusClient::request("Delete", {zbus::encodeString(ns_)}),
       "invalid number of arguments expecting 2 got 1"},
  };
  for (const auto& [request, error] : mistyped) {
    SCOPED_TRACE(request.method + " with mistyped inputs");
    auto reply = zbus_->call(request, 30s);
    ASSERT_TRUE(reply) << reply.error().message;
    EXPECT_EQ(reply->error, error);
  }
  EXPECT_EQ(*zbus_->command({"LLEN", kQueue}), "0");
}

// contd is the process it was, still serving both transports, its log holds no long line,
// and no trace of a container exists anywhere.
void BadInputIT::expectContdUpAndNothingCreated(pid_t pid,
                                                const std::vector<std::string>& namespaces) {
  ASSERT_EQ(daemon_->pid(), pid);
  siginfo_t exited{};
  ASSERT_EQ(::waitid(P_PID, pid, &exited, WEXITED | WNOHANG | WNOWAIT), 0);
  ASSERT_EQ(exited.si_pid, 0) << "contd exited: " << daemon_->logTail();
  ASSERT_NO_FATAL_FAILURE(expectZbusServes());
  EXPECT_EQ(*zbus_->command({"LLEN", kQueue}), "0");
  EXPECT_TRUE(unary<v1::ListNamespacesResponse>(v1::ListNamespacesRequest{}, [&](auto&&... p) {
                return stub_->ListNamespaces(p...);
              }).ok());

  EXPECT_EQ(client_->listNamespaces().value_or(std::vector<std::string>{"(error)"}), namespaces);
  unmountOwnNetns();
  const support::LeftoverScope scope{.client = client_.get(),
                                     .containerd_state = fs::path(containerd_->dir()) / "state",
                                     .ns = ns_,
                                     .log_shim = CONTD_SHIM_LOGS_BIN};
  EXPECT_EQ(support::namespaceLeftovers(scope, {rootfs_->path(), dir_->path()}), "");
  std::error_code ec;
  for (const fs::path& dir : {scope.containerd_state / "io.containerd.runtime.v2.task",
                             daemon_->logRoot()}) {
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      ADD_FAILURE() << "made: " << it->path();
    }
  }
  std::istringstream log(support::readFile(dir_->path() / "daemon" / "contd.log"));
  std::size_t longest = 0;
  for (std::string line; std::getline(log, line);) longest = std::max(longest, line.size());
  EXPECT_LT(longest, kLongestLogLine) << "contd logged a line of " << longest << " bytes";
}

TEST_F(BadInputIT, EveryBadValueIsRefusedNamingTheFieldOverGrpcAndZbusAndNothingIsMade) {
  const pid_t pid = daemon_->pid();
  auto namespaces = client_->listNamespaces();
  ASSERT_TRUE(namespaces) << namespaces.error().message;
  const auto started = std::chrono::steady_clock::now();
  const std::vector<Row> rows = support::badInputTable(badPaths(), pid);
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    if (row.over_grpc) {
      ASSERT_NO_FATAL_FAILURE(expectRefusedOverGrpc(row));
    }
    if (row.over_zbus != OverZbus::kNo && support::callInfo(row.call).on_zbus) {
      ASSERT_NO_FATAL_FAILURE(expectRefusedOverZbus(row));
    }
  }
  ASSERT_NO_FATAL_FAILURE(expectUndecodableZbusPayloadsDropped());
  std::cout << "bad input: " << rows.size() << " rows in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s" << std::endl;
  RecordProperty("rows", static_cast<int>(rows.size()));
  ASSERT_NO_FATAL_FAILURE(expectContdUpAndNothingCreated(pid, *namespaces));
  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0) << daemon_->logTail();
}

}  // namespace
}  // namespace contd
