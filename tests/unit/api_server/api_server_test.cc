// The API server over a real unix socket in a temp folder, with the container module on
// the in-memory containerd: socket set-up, caller credentials, and the calls end to end.

#include "modules/api_server/api_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/api_server/conversions.h"
#include "modules/api_server/unix_listener.h"
#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_host.h"

namespace contd::api {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("contd-api-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

std::unique_ptr<v1::Containers::Stub> stubFor(const fs::path& socket) {
  return v1::Containers::NewStub(
      grpc::CreateChannel("unix:" + socket.string(), grpc::InsecureChannelCredentials()));
}

mode_t modeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Answers ListNamespaces with what the peer table knows about the caller: "uid:gid:pid".
class WhoAmI final : public v1::Containers::Service {
public:
  explicit WhoAmI(const PeerTable& peers) : peers_(peers) {}
  grpc::Status ListNamespaces(grpc::ServerContext* context, const v1::ListNamespacesRequest*,
                              v1::ListNamespacesResponse* response) override {
    auto peer = peers_.lookup(context->peer());
    response->add_namespaces(peer ? std::to_string(peer->uid) + ":" + std::to_string(peer->gid) +
                                        ":" + std::to_string(peer->pid)
                                  : "unknown " + context->peer());
    return grpc::Status::OK;
  }

private:
  const PeerTable& peers_;
};

TEST(PeerTable, LooksUpOnlyFdPeersItRecorded) {
  PeerTable peers;
  peers.remember(12, PeerCredentials{.uid = 1000, .gid = 100, .pid = 77});
  ASSERT_TRUE(peers.lookup("fd:12"));
  EXPECT_EQ(peers.lookup("fd:12")->pid, 77);
  EXPECT_FALSE(peers.lookup("fd:13"));
  EXPECT_FALSE(peers.lookup("fd:12x"));
  EXPECT_FALSE(peers.lookup("fd:"));
  EXPECT_FALSE(peers.lookup("unix:/run/contd/contd.sock"));
  // A reused fd number belongs to the newest connection.
  peers.remember(12, PeerCredentials{.uid = 0, .gid = 0, .pid = 78});
  EXPECT_EQ(peers.lookup("fd:12")->pid, 78);
}

TEST(UnixListener, HandlersSeeTheCallersCredentials) {
  TempDir dir;
  const auto socket = dir.path() / "run" / "contd" / "contd.sock";
  auto listener = UnixListener::bindPath({.path = socket, .group = "", .mode = 0660});
  ASSERT_TRUE(listener) << listener.error().message;

  WhoAmI service((*listener)->peers());
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  ASSERT_TRUE((*listener)->start(*server));

  EXPECT_EQ(modeOf(socket), 0660U);
  EXPECT_EQ(modeOf(socket.parent_path()), 0755U);
  const std::string me = std::to_string(::getuid()) + ":" + std::to_string(::getgid()) + ":" +
                         std::to_string(::getpid());
  // Two connections (two channels), two calls each: every call finds its caller.
  for (int connection = 0; connection < 2; ++connection) {
    auto stub = stubFor(socket);
    for (int call = 0; call < 2; ++call) {
      grpc::ClientContext context;
      v1::ListNamespacesResponse response;
      ASSERT_TRUE(stub->ListNamespaces(&context, {}, &response).ok());
      ASSERT_EQ(response.namespaces_size(), 1);
      EXPECT_EQ(response.namespaces(0), me);
    }
  }

  (*listener)->stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  EXPECT_FALSE(fs::exists(socket)) << "stop() removes the socket it made";
}

TEST(UnixListener, ReplacesAStaleSocketButNotALiveOne) {
  TempDir dir;
  const auto socket = dir.path() / "contd.sock";
  {
    // A socket file nobody listens on any more, as a killed daemon leaves it.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  auto first = UnixListener::bindPath({.path = socket, .group = "", .mode = 0660});
  ASSERT_TRUE(first) << first.error().message;

  auto second = UnixListener::bindPath({.path = socket, .group = "", .mode = 0660});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kAlreadyExists);
  EXPECT_TRUE(fs::exists(socket)) << "a refused listener must not remove the live socket";
}

TEST(UnixListener, RefusesToReplaceAFileThatIsNotASocket) {
  TempDir dir;
  const auto path = dir.path() / "contd.sock";
  std::ofstream(path) << "precious";
  auto listener = UnixListener::bindPath({.path = path, .group = "", .mode = 0660});
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(fs::exists(path));
}

TEST(UnixListener, RejectsUnknownGroupAndRelativePath) {
  TempDir dir;
  auto unknown = UnixListener::bindPath(
      {.path = dir.path() / "contd.sock", .group = "no-such-group-contd", .mode = 0660});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kInvalidArgument);
  EXPECT_NE(unknown.error().message.find("no-such-group-contd"), std::string::npos);

  auto relative = UnixListener::bindPath({.path = "contd.sock", .group = "", .mode = 0660});
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().code, Code::kInvalidArgument);
}

TEST(UnixListener, SetsANumericGroup) {
  TempDir dir;
  const auto socket = dir.path() / "contd.sock";
  const auto gid = ::getgid();  // a group the test may always chown to
  auto listener =
      UnixListener::bindPath({.path = socket, .group = std::to_string(gid), .mode = 0660});
  ASSERT_TRUE(listener) << listener.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, gid);
}

TEST(UnixListener, AdoptsAListeningFdAndRefusesOthers) {
  TempDir dir;
  const auto socket = dir.path() / "activated.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  auto not_listening = UnixListener::fromFd(fd);
  ASSERT_FALSE(not_listening);
  EXPECT_EQ(not_listening.error().code, Code::kInvalidArgument);

  ASSERT_EQ(::listen(fd, 4), 0);
  auto listener = UnixListener::fromFd(fd);
  ASSERT_TRUE(listener) << listener.error().message;
  EXPECT_EQ((*listener)->path(), socket);
  (*listener)->stop();
  EXPECT_TRUE(fs::exists(socket)) << "an adopted socket's file belongs to whoever made it";
}

class ApiServerTest : public ::testing::Test {
protected:
  void SetUp() override {
    testing::makeFakeHost(dir_.path());
    container::ServiceOptions options = testing::fakeHostOptions(dir_.path());
    core_ = std::make_unique<container::ContainerService>(fake_, options);
    ApiServerOptions api_options;
    api_options.listener.path = dir_.path() / "contd.sock";
    auto api = ApiServer::start(*core_, api_options);
    ASSERT_TRUE(api) << api.error().message;
    api_ = std::move(api).value();
    stub_ = stubFor(api_->socketPath());
  }
  void TearDown() override { api_.reset(); }

  v1::ContainerSpec validSpec(const std::string& name) const {
    v1::ContainerSpec spec;
    spec.set_name(name);
    spec.set_rootfs((dir_.path() / "rootfs").string());
    spec.add_argv("/bin/sleep");
    spec.add_argv("1000");
    spec.set_network_namespace("net1");
    spec.add_env("A=1");
    return spec;
  }

  TempDir dir_;
  testing::FakeContainerd fake_;
  std::unique_ptr<container::ContainerService> core_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<v1::Containers::Stub> stub_;
};

TEST_F(ApiServerTest, RunInspectListExistsDelete) {
  {
    grpc::ClientContext context;
    v1::RunRequest request;
    request.set_namespace_("ns1");
    *request.mutable_spec() = validSpec("web");
    v1::RunResponse response;
    const auto status = stub_->Run(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.id(), "web");
  }
  {
    grpc::ClientContext context;
    v1::InspectRequest request;
    request.set_namespace_("ns1");
    request.set_id("web");
    v1::InspectResponse response;
    ASSERT_TRUE(stub_->Inspect(&context, request, &response).ok());
    EXPECT_EQ(response.info().namespace_(), "ns1");
    EXPECT_EQ(response.info().status(), v1::ContainerInfo::RUNNING);
    EXPECT_GT(response.info().pid(), 0U);
    EXPECT_EQ(response.info().spec().env(0), "A=1");
    EXPECT_FALSE(response.info().has_exit_code());
  }
  {
    grpc::ClientContext context;
    v1::ListRequest request;
    v1::ListResponse response;
    ASSERT_TRUE(stub_->List(&context, request, &response).ok());
    ASSERT_EQ(response.containers_size(), 1);
    EXPECT_EQ(response.containers(0).spec().name(), "web");
  }
  {
    grpc::ClientContext context;
    v1::ListNamespacesResponse response;
    ASSERT_TRUE(stub_->ListNamespaces(&context, {}, &response).ok());
    ASSERT_EQ(response.namespaces_size(), 1);
    EXPECT_EQ(response.namespaces(0), "ns1");
  }
  {
    grpc::ClientContext context;
    v1::ExistsRequest request;
    request.set_namespace_("ns1");
    request.set_id("web");
    v1::ExistsResponse response;
    ASSERT_TRUE(stub_->Exists(&context, request, &response).ok());
    EXPECT_TRUE(response.exists());
  }
  {
    grpc::ClientContext context;
    v1::DeleteRequest request;
    request.set_namespace_("ns1");
    request.set_id("web");
    v1::DeleteResponse response;
    const auto status = stub_->Delete(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(fake_.hasContainer("ns1", "web"));
  }
}

TEST_F(ApiServerTest, UpdateChangesTheSetLimitsAndAnswersTheContainer) {
  auto update = [&](v1::UpdateRequest request, v1::UpdateResponse* response) {
    grpc::ClientContext context;
    request.set_namespace_("ns1");
    return stub_->Update(&context, request, response);
  };
  auto spec = validSpec("web");
  spec.set_cpu(2);
  spec.set_memory_bytes(64 << 20);
  ASSERT_TRUE(core_->run("ns1", fromProto(spec)));
  v1::UpdateRequest request;
  request.set_id("web");
  request.set_memory_bytes(0);  // set to 0: the limit goes; cpu, unset, stays
  request.set_pids_limit(50);
  v1::UpdateResponse response;
  auto status = update(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.info().spec().memory_bytes(), 0u);
  EXPECT_EQ(response.info().spec().pids_limit(), 50);
  EXPECT_EQ(response.info().spec().cpu(), 2u);
  EXPECT_EQ(response.info().status(), v1::ContainerInfo::RUNNING);
  ASSERT_EQ(fake_.taskUpdates("ns1", "web").size(), 1u);

  v1::UpdateRequest none;
  none.set_id("web");
  status = update(none, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  v1::UpdateRequest bad = request;
  bad.set_memory_bytes(1);
  status = update(bad, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("memory_bytes: ", 0), 0u) << status.error_message();
  v1::UpdateRequest ghost = request;
  ghost.set_id("ghost");
  EXPECT_EQ(update(ghost, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(fake_.taskUpdates("ns1", "web").size(), 1u) << "a refused update reached the task";
}

// RunHealthCheck through the socket, with contd's own probe (an exec, here in the fake).
TEST_F(ApiServerTest, RunHealthCheckRunsTheCheckAndAnswersTheState) {
  auto run = [&](const std::string& name, bool with_health) {
    grpc::ClientContext context;
    v1::RunRequest request;
    request.set_namespace_("ns1");
    *request.mutable_spec() = validSpec(name);
    if (with_health) {
      request.mutable_spec()->mutable_health()->add_argv("/bin/true");
      request.mutable_spec()->mutable_health()->set_retries(1);
    }
    v1::RunResponse response;
    const auto status = stub_->Run(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  };
  auto check = [&](const std::string& name, v1::RunHealthCheckResponse& response) {
    grpc::ClientContext context;
    v1::RunHealthCheckRequest request;
    request.set_namespace_("ns1");
    request.set_id(name);
    return stub_->RunHealthCheck(&context, request, &response);
  };
  ASSERT_NO_FATAL_FAILURE(run("web", true));
  ASSERT_NO_FATAL_FAILURE(run("plain", false));
  fake_.setExecResult("ns1", "web", {.exit_code = 0, .output = ""});
  v1::RunHealthCheckResponse response;
  auto status = check("web", response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.result().exit_code(), 0);
  EXPECT_TRUE(response.result().has_start());
  EXPECT_EQ(response.state().status(), v1::HealthState::HEALTHY);
  EXPECT_EQ(response.state().log_size(), 1);
  ASSERT_EQ(fake_.execs("ns1", "web").size(), 0U) << "the check's process was not deleted";

  fake_.setExecResult("ns1", "web", {.exit_code = 2, .output = ""});
  status = check("web", response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.result().exit_code(), 2);
  EXPECT_EQ(response.state().status(), v1::HealthState::UNHEALTHY);
  {
    grpc::ClientContext context;
    v1::InspectRequest request;
    request.set_namespace_("ns1");
    request.set_id("web");
    v1::InspectResponse inspected;
    ASSERT_TRUE(stub_->Inspect(&context, request, &inspected).ok());
    EXPECT_EQ(inspected.info().spec().health().interval_ms(), 30000U) << "defaults filled in";
    EXPECT_EQ(inspected.info().health().status(), v1::HealthState::UNHEALTHY);
    EXPECT_EQ(inspected.info().health().failing_streak(), 1U);
  }
  EXPECT_EQ(check("plain", response).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(check("ghost", response).error_code(), grpc::StatusCode::NOT_FOUND);
}

// A huge id or namespace is not echoed back: the answer names the field and quotes at most
// a cut, escaped prefix (a 3 MiB id once came back whole, and went whole into the log).
TEST_F(ApiServerTest, AHugeIdIsNotAmplifiedIntoTheAnswer) {
  const std::string huge(3 << 20, 'x');
  for (const bool in_namespace : {false, true}) {
    grpc::ClientContext context;
    v1::InspectRequest request;
    request.set_namespace_(in_namespace ? huge : "ns1");
    request.set_id(in_namespace ? "web" : huge);
    v1::InspectResponse response;
    const auto status = stub_->Inspect(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_LT(status.error_message().size(), 1024u) << status.error_message().substr(0, 80);
    EXPECT_EQ(status.error_message().rfind(in_namespace ? "namespace: " : "id: ", 0), 0u)
        << status.error_message().substr(0, 80);
  }
  auto spec = validSpec(std::string(1 << 20, 'n'));
  grpc::ClientContext context;
  v1::RunRequest request;
  request.set_namespace_("ns1");
  *request.mutable_spec() = spec;
  v1::RunResponse response;
  const auto status = stub_->Run(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(status.error_message().size(), 1024u);
  EXPECT_EQ(status.error_message().rfind("name: ", 0), 0u) << status.error_message().substr(0, 80);
}

// Events takes no container id, but its namespace follows the rule of every other call:
// refused at once, not a stream that waits forever.
TEST_F(ApiServerTest, EventsRefusesANamespaceOutsideTheRule) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::EventsRequest request;
  request.set_namespace_("a\nb");
  auto reader = stub_->Events(&context, request);
  v1::Event event;
  EXPECT_FALSE(reader->Read(&event));
  const auto status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("namespace: must match", 0), 0u)
      << status.error_message();
}

TEST_F(ApiServerTest, ErrorsKeepTheirCodeAndMessage) {
  {
    grpc::ClientContext context;
    v1::InspectRequest request;
    request.set_namespace_("ns1");
    request.set_id("ghost");
    v1::InspectResponse response;
    const auto status = stub_->Inspect(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(status.error_message().find("ghost"), std::string::npos);
  }
  {
    grpc::ClientContext context;
    v1::RunRequest request;  // no spec at all
    request.set_namespace_("ns1");
    v1::RunResponse response;
    const auto status = stub_->Run(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "spec: required");
  }
  {
    grpc::ClientContext context;
    v1::RunRequest request;
    request.set_namespace_("ns1");
    *request.mutable_spec() = validSpec("bad..name");
    v1::RunResponse response;
    EXPECT_EQ(stub_->Run(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(fake_.containerCount(), 0U);
  }
  {
    grpc::ClientContext context;
    v1::RunRequest request;
    request.set_namespace_("ns1");
    *request.mutable_spec() = validSpec("web");
    v1::RunResponse response;
    fake_.failNext("createContainer", Code::kUnavailable);
    EXPECT_EQ(stub_->Run(&context, request, &response).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
}

// Logs encodes the core's lines; following, the rule "no file yet but the container
// exists" and the end at cancellation are the core's, seen here end to end.
TEST_F(ApiServerTest, LogsFollowsALogThatAppearsLaterUntilCancelled) {
  {
    grpc::ClientContext context;
    v1::RunRequest request;
    request.set_namespace_("ns1");
    *request.mutable_spec() = validSpec("web");
    v1::RunResponse response;
    ASSERT_TRUE(stub_->Run(&context, request, &response).ok());
  }
  v1::LogsRequest request;
  request.set_namespace_("ns1");
  request.set_id("web");
  {
    grpc::ClientContext context;
    auto reader = stub_->Logs(&context, request);
    v1::LogLine line;
    EXPECT_FALSE(reader->Read(&line));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);  // nothing written
  }
  {
    grpc::ClientContext context;
    v1::LogsRequest ghost = request;
    ghost.set_id("ghost");
    ghost.set_follow(true);
    auto reader = stub_->Logs(&context, ghost);
    v1::LogLine line;
    EXPECT_FALSE(reader->Read(&line));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  request.set_follow(true);
  grpc::ClientContext context;
  auto reader = stub_->Logs(&context, request);
  const auto log = dir_.path() / "logs" / "ns1" / "web.log";
  std::ofstream(log, std::ios::app) << "2025-11-22T09:46:47.000000000Z stderr P hel";
  std::ofstream(log, std::ios::app) << "\n2025-11-22T09:46:47.000000000Z stderr F lo\n";
  v1::LogLine line;
  ASSERT_TRUE(reader->Read(&line));
  EXPECT_EQ(line.text(), "hello");
  EXPECT_EQ(line.stream(), "stderr");
  EXPECT_EQ(line.time().seconds(), 1'763'804'807);
  std::ofstream(log, std::ios::app) << "raw\n";
  ASSERT_TRUE(reader->Read(&line));
  EXPECT_EQ(line.text(), "raw");
  EXPECT_FALSE(line.has_time());
  context.TryCancel();
  EXPECT_FALSE(reader->Read(&line));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ApiServerTest, StopEndsServingAndRemovesTheSocket) {
  const auto socket = api_->socketPath();
  api_->stop(std::chrono::milliseconds(500));
  EXPECT_FALSE(fs::exists(socket));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::ListNamespacesResponse response;
  EXPECT_EQ(stubFor(socket)->ListNamespaces(&context, {}, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace contd::api
