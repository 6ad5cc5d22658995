// The API server's calls about the daemon (Version, Info) and the level each call is logged
// at, over a real unix socket with the container module on the in-memory containerd.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/api_server/api_server.h"
#include "modules/common/logging.h"
#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_host.h"

namespace contd::api {
namespace {

namespace fs = std::filesystem;

// What the daemon would give: fixed facts, so the test checks the plumbing and the counts.
class FixedInfo final : public DaemonInfoSource {
public:
  VersionFacts versions() override {
    return {.version = "9.8.7",
            .containerd_version = "1.6.20~ds1",
            .containerd_revision = "rev1",
            .runtime = "runc",
            .runtime_version = "1.1.5",
            .shim_group = "none"};
  }
  std::string configJson() override { return R"({"log_level": "info"})"; }
  Result<std::uint64_t> imageCount() override { return std::uint64_t{4}; }
};

// The api logger's lines, "<level> <message>", for the time it lives.
class CapturedApiLog {
public:
  CapturedApiLog() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    sink_->set_pattern("%l %v");
    log::init("debug");
    log::api()->sinks().push_back(sink_);
  }
  ~CapturedApiLog() {
    auto& sinks = log::api()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    log::init("info");
  }
  // The line of the call `op`, or "" when there is none.
  std::string lineOf(const std::string& op) {
    log::api()->flush();
    std::istringstream lines(out_.str());
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" call op=" + op + " ") != std::string::npos) {
        return line;
      }
    }
    return "";
  }

private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

class DaemonCallsTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("contd-daemon-calls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    testing::makeFakeHost(dir_);
    core_ = std::make_unique<container::ContainerService>(fake_, testing::fakeHostOptions(dir_));
  }
  void TearDown() override {
    api_.reset();
    fs::remove_all(dir_);
  }

  void start(DaemonInfoSource* info) {
    ApiServerOptions options;
    options.listener.path = dir_ / "contd.sock";
    options.info = info;
    auto api = ApiServer::start(*core_, options);
    ASSERT_TRUE(api) << api.error().message;
    api_ = std::move(api).value();
    stub_ = v1::Containers::NewStub(grpc::CreateChannel("unix:" + api_->socketPath().string(),
                                                        grpc::InsecureChannelCredentials()));
  }

  grpc::Status run(const std::string& name) {
    grpc::ClientContext context;
    v1::RunRequest request;
    request.set_namespace_("ns1");
    auto* spec = request.mutable_spec();
    spec->set_name(name);
    spec->set_rootfs((dir_ / "rootfs").string());
    spec->add_argv("/bin/sleep");
    spec->add_argv("1000");
    spec->set_network_namespace("net1");
    v1::RunResponse response;
    return stub_->Run(&context, request, &response);
  }

  fs::path dir_;
  testing::FakeContainerd fake_;
  std::unique_ptr<container::ContainerService> core_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<v1::Containers::Stub> stub_;
};

TEST_F(DaemonCallsTest, VersionAndInfoAnswerTheDaemonsFactsAndTheCounts) {
  FixedInfo info;
  ASSERT_NO_FATAL_FAILURE(start(&info));
  ASSERT_TRUE(run("web").ok());
  ASSERT_TRUE(run("db").ok());

  grpc::ClientContext version_context;
  v1::VersionResponse version;
  ASSERT_TRUE(stub_->Version(&version_context, {}, &version).ok());
  EXPECT_EQ(version.version(), "9.8.7");
  EXPECT_EQ(version.containerd_version(), "1.6.20~ds1");
  EXPECT_EQ(version.containerd_revision(), "rev1");
  EXPECT_EQ(version.runtime(), "runc");
  EXPECT_EQ(version.runtime_version(), "1.1.5");

  grpc::ClientContext info_context;
  v1::InfoResponse answer;
  const auto status = stub_->Info(&info_context, {}, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.version().version(), "9.8.7");
  EXPECT_EQ(answer.containers().total(), 2U);
  EXPECT_EQ(answer.containers().running(), 2U);
  EXPECT_EQ(answer.containers().stopped(), 0U);
  EXPECT_EQ(answer.namespaces(), 1U);
  EXPECT_EQ(answer.images(), 4U);
  EXPECT_EQ(answer.config_json(), R"({"log_level": "info"})");
}

TEST_F(DaemonCallsTest, InfoFailsWithContainerdsCodeAndWithoutASourceIsRefused) {
  FixedInfo info;
  ASSERT_NO_FATAL_FAILURE(start(&info));
  fake_.failNext("listNamespaces", Code::kUnavailable);
  grpc::ClientContext context;
  v1::InfoResponse answer;
  EXPECT_EQ(stub_->Info(&context, {}, &answer).error_code(), grpc::StatusCode::UNAVAILABLE);

  api_.reset();
  ASSERT_NO_FATAL_FAILURE(start(nullptr));
  grpc::ClientContext bare;
  v1::VersionResponse version;
  EXPECT_EQ(stub_->Version(&bare, {}, &version).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// A fleet polls List, Inspect and Info: their successes are debug lines, so that info shows
// what changed; a change (Run) stays at info, and a failed read keeps its level.
TEST_F(DaemonCallsTest, ReadOnlyCallsAreLoggedAtDebugChangesAtInfo) {
  FixedInfo info;
  ASSERT_NO_FATAL_FAILURE(start(&info));
  CapturedApiLog captured;
  ASSERT_TRUE(run("web").ok());
  {
    grpc::ClientContext context;
    v1::ListRequest request;
    v1::ListResponse response;
    ASSERT_TRUE(stub_->List(&context, request, &response).ok());
  }
  {
    grpc::ClientContext context;
    v1::InfoResponse response;
    ASSERT_TRUE(stub_->Info(&context, {}, &response).ok());
  }
  {
    grpc::ClientContext context;
    v1::InspectRequest request;
    request.set_namespace_("ns1");
    request.set_id("ghost");
    v1::InspectResponse response;
    EXPECT_EQ(stub_->Inspect(&context, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(captured.lineOf("Run").rfind("info call op=Run ns=ns1 id=web ", 0), 0U)
      << captured.lineOf("Run");
  EXPECT_EQ(captured.lineOf("List").rfind("debug call op=List ", 0), 0U) << captured.lineOf("List");
  EXPECT_EQ(captured.lineOf("Info").rfind("debug call op=Info ", 0), 0U) << captured.lineOf("Info");
  const auto failed = captured.lineOf("Inspect");
  EXPECT_EQ(failed.rfind("info call op=Inspect ns=ns1 id=ghost ", 0), 0U) << failed;
  EXPECT_NE(failed.find("code=NOT_FOUND"), std::string::npos) << failed;
}

}  // namespace
}  // namespace contd::api
