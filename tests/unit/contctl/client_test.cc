// contctl's client against a real API server (temp unix socket, in-memory containerd):
// answers arrive filled in, and errors read "CODE: message".

#include "modules/contctl/client.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "modules/api_server/api_server.h"
#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_host.h"

namespace contd::contctl {
namespace {

namespace fs = std::filesystem;

class ContctlClientTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("contd-contctl-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    testing::makeFakeHost(dir_);
    container::ServiceOptions options = testing::fakeHostOptions(dir_);
    core_ = std::make_unique<container::ContainerService>(fake_, options);
    api::ApiServerOptions api_options;
    api_options.listener.path = dir_ / "contd.sock";
    auto server = api::ApiServer::start(*core_, api_options);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(server).value();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  testing::FakeContainerd fake_;
  std::unique_ptr<container::ContainerService> core_;
  std::unique_ptr<api::ApiServer> server_;
};

// More containers than one gRPC answer can hold (gRPC's 4 MiB receive limit): list()
// follows the pages and returns every one, in order.
TEST_F(ContctlClientTest, ListGathersEveryPage) {
  Client client((dir_ / "contd.sock").string());
  for (int i = 10; i < 35; ++i) {
    v1::ContainerSpec spec;
    spec.set_name("big" + std::to_string(i));
    spec.set_rootfs((dir_ / "rootfs").string());
    spec.set_network_namespace("net1");
    spec.add_argv("/bin/true");
    spec.add_env("A=" + std::string(100 << 10, 'a'));
    spec.add_env("B=" + std::string(100 << 10, 'b'));
    auto run = client.run("ns1", spec);
    ASSERT_TRUE(run) << run.error().message;
  }
  auto listed = client.list("");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->containers_size(), 25);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(listed->containers(i).spec().name(), "big" + std::to_string(10 + i));
  }
}

TEST_F(ContctlClientTest, AnswersArriveFilledIn) {
  Client client((dir_ / "contd.sock").string());
  v1::ContainerSpec spec;
  spec.set_name("web");
  spec.set_rootfs((dir_ / "rootfs").string());
  spec.set_network_namespace("net1");
  spec.add_argv("/bin/true");

  auto run = client.run("demo", spec);
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(run->id(), "web");

  auto namespaces = client.listNamespaces();
  ASSERT_TRUE(namespaces) << namespaces.error().message;
  ASSERT_EQ(namespaces->namespaces_size(), 1);
  EXPECT_EQ(namespaces->namespaces(0), "demo");

  auto list = client.list("demo");
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->containers_size(), 1);

  auto inspect = client.inspect("demo", "web");
  ASSERT_TRUE(inspect) << inspect.error().message;
  EXPECT_EQ(inspect->info().spec().argv(0), "/bin/true");

  EXPECT_TRUE(client.remove("demo", "web"));
}

TEST_F(ContctlClientTest, ErrorsCarryTheServersCodeAndMessage) {
  Client client((dir_ / "contd.sock").string());
  auto missing = client.inspect("demo", "ghost");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "NOT_FOUND: container \"ghost\" in namespace \"demo\": not found");

  Client nowhere((dir_ / "nothing.sock").string());
  auto down = nowhere.listNamespaces();
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().message.rfind("UNAVAILABLE: ", 0), 0U) << down.error().message;
}

}  // namespace
}  // namespace contd::contctl
