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

#include "contd/v1/containers.grpc.pb.h"
#include "modules/api_server/api_server.h"
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

}  // namespace
}  // namespace contd::api
