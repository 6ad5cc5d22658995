// The container module against an in-memory containerd: what Run leaves behind, what
// Delete sends, what is visible, and that failures leave nothing.

#include "modules/container/service.h"

#include <signal.h>

#include <filesystem>
#include <fstream>

#include <limits>

#include <gtest/gtest.h>

#include "tests/fakes/fake_containerd.h"
#include "tests/fakes/fake_image_store.h"
#include "tests/fakes/fake_host.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

class ServiceTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("contd-service-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    testing::makeFakeHost(root_);
    fs::create_directories(root_ / "cgroup" / "memory");
    options_ = testing::fakeHostOptions(root_);
    service_ = std::make_unique<ContainerService>(fake_, options_);
  }
  void TearDown() override { fs::remove_all(root_); }

  ContainerSpec validSpec(const std::string& name = "web") const {
    return testing::fakeHostSpec(root_, name);
  }

  fs::path root_;
  ServiceOptions options_;
  testing::FakeContainerd fake_;
  std::unique_ptr<ContainerService> service_;
};

TEST_F(ServiceTest, RunCreatesManagedContainerAndStartsTask) {
  auto id = service_->run("ns1", validSpec());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "web");
  ASSERT_TRUE(fake_.hasContainer("ns1", "web"));
  EXPECT_EQ(fake_.record("ns1", "web").labels.at(kManagedLabel), "true");
  auto task = fake_.getTask("ns1", "web");
  ASSERT_TRUE(task);
  EXPECT_EQ(task->status, containerd::TaskStatus::kRunning);
}

TEST_F(ServiceTest, RunSendsBothStreamsToTheLogShim) {
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  const auto io = fake_.taskIo("ns1", "web");
  const std::string expected = "binary://" + options_.log_shim.string() +
                               "?log_root=" + (root_ / "logs").string() +
                               "&max_size=10485760&max_files=3";
  EXPECT_EQ(io.stdout_uri, expected);
  EXPECT_EQ(io.stderr_uri, expected);
  EXPECT_TRUE(fs::is_directory(root_ / "logs" / "ns1"));
}

TEST_F(ServiceTest, DropLogPolicyGoesIntoTheUri) {
  options_.log_policy = "drop";
  options_.log_rate_limit = 65536;
  service_ = std::make_unique<ContainerService>(fake_, options_);
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  const auto io = fake_.taskIo("ns1", "web");
  EXPECT_NE(io.stdout_uri.find("&max_files=3&policy=drop&rate=65536"), std::string::npos)
      << io.stdout_uri;
  EXPECT_EQ(io.stderr_uri, io.stdout_uri);
}

TEST_F(ServiceTest, InspectReadsTheLogHealthFile) {
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  auto before = service_->inspect("ns1", "web");
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->log_writer_restarts, 0u);  // no health file yet
  EXPECT_EQ(before->log_dropped_bytes, 0u);
  std::ofstream(root_ / "logs" / "ns1" / ".web.log.health")
      << "{\"writer_restarts\":2,\"dropped_bytes\":12345,\"dropped_records\":7,"
         "\"policy\":\"drop\"}\n";
  auto info = service_->inspect("ns1", "web");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->log_writer_restarts, 2u);
  EXPECT_EQ(info->log_dropped_bytes, 12345u);
}

TEST_F(ServiceTest, InspectReturnsWhatRunWasGivenWithDefaultsAndLiveState) {
  auto spec = validSpec();
  spec.env = {"A=1"};
  spec.mounts = {{(root_ / "rootfs").string(), "/data", true}};
  spec.tags = {"blue"};
  ASSERT_TRUE(service_->run("ns1", spec));

  auto info = service_->inspect("ns1", "web");
  ASSERT_TRUE(info) << info.error().message;
  auto expected = spec;
  expected.shutdown_timeout = options_.default_shutdown_timeout;
  expected.restart = RestartMode::kAlways;  // the unset mode, resolved
  EXPECT_EQ(info->spec, expected);
  EXPECT_EQ(info->ns, "ns1");
  EXPECT_EQ(info->status, ContainerStatus::kRunning);
  EXPECT_GT(info->pid, 0u);
  EXPECT_EQ(info->exit_code, -1);
  EXPECT_GT(info->created_at, 0);
  EXPECT_EQ(info->log_path, (root_ / "logs" / "ns1" / "web.log").string());
}

TEST_F(ServiceTest, InspectReportsExitOfStoppedTask) {
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  fake_.exitTask("ns1", "web", 3);
  auto info = service_->inspect("ns1", "web");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, ContainerStatus::kStopped);
  EXPECT_EQ(info->exit_code, 3);
  EXPECT_EQ(info->pid, 0u);
  EXPECT_GT(info->exited_at, 0);
}

TEST_F(ServiceTest, InvalidInputCreatesNothing) {
  std::vector<std::pair<std::string, ContainerSpec>> bad;
  auto spec = validSpec();
  spec.name = "bad..name";
  bad.emplace_back("name", spec);
  spec = validSpec();
  spec.rootfs = (root_ / "missing").string();
  bad.emplace_back("rootfs", spec);
  spec = validSpec();
  spec.network_namespace = "";
  bad.emplace_back("network_namespace", spec);
  spec = validSpec();
  spec.network_namespace = "absent";
  bad.emplace_back("network_namespace", spec);
  spec = validSpec();
  spec.entrypoint = "'unterminated";
  bad.emplace_back("entrypoint", spec);
  spec = validSpec();
  spec.mounts = {{(root_ / "rootfs").string(), "/", false}};
  bad.emplace_back("mounts", spec);
  spec = validSpec();
  spec.env = {"NOEQUALS"};
  bad.emplace_back("env", spec);

  for (const auto& [field, input] : bad) {
    auto id = service_->run("ns1", input);
    ASSERT_FALSE(id) << "accepted bad " << field;
    EXPECT_EQ(id.error().code, Code::kInvalidArgument) << field;
    EXPECT_NE(id.error().message.find(field), std::string::npos)
        << "error does not name " << field << ": " << id.error().message;
  }
  auto bad_ns = service_->run("bad/ns", validSpec());
  ASSERT_FALSE(bad_ns);
  EXPECT_NE(bad_ns.error().message.find("namespace"), std::string::npos);

  EXPECT_EQ(fake_.containerCount(), 0u);
  EXPECT_TRUE(fake_.namespaces().empty());
}

TEST_F(ServiceTest, DuplicateNameIsAlreadyExistsAndKeepsTheFirst) {
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  const auto pid = fake_.getTask("ns1", "web")->pid;
  ContainerSpec other = validSpec();
  other.entrypoint = "/bin/sh -c 'sleep 2000'";
  auto again = service_->run("ns1", other);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kAlreadyExists);
  EXPECT_EQ(fake_.getTask("ns1", "web")->pid, pid);
  EXPECT_TRUE(fake_.signals("ns1", "web").empty());
}

TEST_F(ServiceTest, RunRemovesAStrandedTaskOfItsNameAndRetriesOnce) {
  // An interrupted Run whose record is gone left a task containerd will not show: Create
  // said ALREADY_EXISTS ("task web: already exists") for every later Run of the name.
  fake_.strandTask("ns1", "web");
  auto id = service_->run("ns1", validSpec());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(fake_.getTask("ns1", "web")->status, containerd::TaskStatus::kRunning);
}

// Rollback impossible: containerd went away right after it started the task.
void loseStartAnswer(testing::FakeContainerd& fake) {
  fake.failNext("startTask", Code::kUnavailable);
  fake.failNext("getTask", Code::kUnavailable);
  fake.failNext("deleteTask", Code::kUnavailable);
  fake.failNext("deleteContainer", Code::kUnavailable);
}

TEST_F(ServiceTest, ARetriedRunOfARunningContainerWithTheSameSpecReturnsIt) {
  // Run said UNAVAILABLE ("start task ... Socket closed") although the task started.
  loseStartAnswer(fake_);
  auto first = service_->run("ns1", validSpec());
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, Code::kUnavailable);
  ASSERT_TRUE(fake_.startTask("ns1", "web"));  // what containerd had done
  const auto pid = fake_.getTask("ns1", "web")->pid;
  auto again = service_->run("ns1", validSpec());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, "web");
  EXPECT_EQ(fake_.getTask("ns1", "web")->pid, pid);
  EXPECT_TRUE(fake_.signals("ns1", "web").empty());
}

TEST_F(ServiceTest, ARetriedRunMakesAfreshWhatAnInterruptedRunLeft) {
  loseStartAnswer(fake_);  // the task stays created, never started
  ASSERT_FALSE(service_->run("ns1", validSpec()));
  ASSERT_TRUE(fake_.hasContainer("ns1", "web"));
  auto again = service_->run("ns1", validSpec());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(fake_.getTask("ns1", "web")->status, containerd::TaskStatus::kRunning);
}

TEST_F(ServiceTest, FailedTaskCreateRollsBackTheContainer) {
  fake_.failNext("createTask", Code::kUnavailable);
  auto id = service_->run("ns1", validSpec());
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, Code::kUnavailable);
  EXPECT_FALSE(fake_.hasContainer("ns1", "web"));
  EXPECT_FALSE(fake_.hasTask("ns1", "web"));
}

TEST_F(ServiceTest, FailedStartRollsBackTaskAndContainer) {
  fake_.failNext("startTask", Code::kInternal);
  auto id = service_->run("ns1", validSpec());
  ASSERT_FALSE(id);
  EXPECT_FALSE(fake_.hasContainer("ns1", "web"));
  EXPECT_FALSE(fake_.hasTask("ns1", "web"));
  // And the name is free again.
  EXPECT_TRUE(service_->run("ns1", validSpec()));
}

TEST_F(ServiceTest, DeleteStopsGracefullyWhenTheContainerHonoursSigterm) {
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  ASSERT_TRUE(service_->remove("ns1", "web"));
  EXPECT_FALSE(fake_.hasContainer("ns1", "web"));
  EXPECT_FALSE(fake_.hasTask("ns1", "web"));
}

TEST_F(ServiceTest, DeleteKillsAContainerThatIgnoresSigterm) {
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  fake_.ignoreSigterm("ns1", "web");
  // Watch the signals before the task goes away.
  std::vector<int> seen;
  fake_.failNext("deleteTask", Code::kInternal);
  auto removed = service_->remove("ns1", "web");
  ASSERT_FALSE(removed);
  seen = fake_.signals("ns1", "web");
  EXPECT_EQ(seen, (std::vector<int>{SIGTERM, SIGKILL}));
  // The failed delete left the container in place; a second Delete finishes the job.
  EXPECT_TRUE(fake_.hasContainer("ns1", "web"));
  ASSERT_TRUE(service_->remove("ns1", "web"));
  EXPECT_FALSE(fake_.hasContainer("ns1", "web"));
}

TEST_F(ServiceTest, DeleteOfUnknownIsNotFound) {
  auto removed = service_->remove("ns1", "ghost");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, Code::kNotFound);
  EXPECT_NE(removed.error().message.find("not found"), std::string::npos);
}

TEST_F(ServiceTest, DeleteRemovesEmptyCgroupParentOnly) {
  ASSERT_TRUE(service_->run("ns1", validSpec("a")));
  fs::create_directories(options_.cgroup_root / "memory" / "ns1");
  ASSERT_TRUE(service_->remove("ns1", "a"));
  EXPECT_FALSE(fs::exists(options_.cgroup_root / "memory" / "ns1"));

  ASSERT_TRUE(service_->run("ns1", validSpec("b")));
  fs::create_directories(options_.cgroup_root / "memory" / "ns1" / "other");
  ASSERT_TRUE(service_->remove("ns1", "b"));
  EXPECT_TRUE(fs::exists(options_.cgroup_root / "memory" / "ns1" / "other"));
}

TEST_F(ServiceTest, UnmanagedContainersAreInvisibleAndUntouched) {
  ASSERT_TRUE(fake_.ensureNamespace("ns1"));
  containerd::ContainerRecord foreign;
  foreign.id = "foreign";
  foreign.spec_json = "{}";
  ASSERT_TRUE(fake_.createContainer("ns1", foreign));

  EXPECT_EQ(service_->inspect("ns1", "foreign").error().code, Code::kNotFound);
  EXPECT_EQ(service_->remove("ns1", "foreign").error().code, Code::kNotFound);
  EXPECT_FALSE(*service_->exists("ns1", "foreign"));
  auto listed = service_->list("ns1");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE(fake_.hasContainer("ns1", "foreign"));
}

TEST_F(ServiceTest, ListCoversOneOrEveryNamespace) {
  ASSERT_TRUE(service_->run("ns1", validSpec("a")));
  ASSERT_TRUE(service_->run("ns2", validSpec("b")));
  ASSERT_TRUE(fake_.ensureNamespace("empty"));

  auto one = service_->list("ns1");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].spec.name, "a");
  EXPECT_EQ((*one)[0].status, ContainerStatus::kRunning);

  auto all = service_->list("");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);

  auto namespaces = service_->listNamespaces();
  ASSERT_TRUE(namespaces);
  EXPECT_EQ(*namespaces, (std::vector<std::string>{"ns1", "ns2"}));

  auto missing = service_->list("never-made");
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->empty());
}

TEST_F(ServiceTest, SignalDeleteSendsSigtermOnlyAndIgnoresUnknown) {
  EXPECT_TRUE(service_->signalDelete("ns1", "ghost"));
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  fake_.ignoreSigterm("ns1", "web");
  ASSERT_TRUE(service_->signalDelete("ns1", "web"));
  EXPECT_EQ(fake_.signals("ns1", "web"), (std::vector<int>{SIGTERM}));
  EXPECT_TRUE(fake_.hasContainer("ns1", "web"));
}

TEST_F(ServiceTest, ReloadedDefaultsApplyToLaterRunsOnly) {
  ASSERT_TRUE(service_->run("ns1", validSpec("before")));
  service_->setDefaults(std::chrono::milliseconds(9000), 77);
  ASSERT_TRUE(service_->run("ns1", validSpec("after")));
  EXPECT_EQ(service_->inspect("ns1", "before")->spec.shutdown_timeout,
            options_.default_shutdown_timeout);
  EXPECT_EQ(service_->inspect("ns1", "after")->spec.shutdown_timeout,
            std::chrono::milliseconds(9000));
  auto oci = nlohmann::json::parse(fake_.record("ns1", "after").spec_json);
  EXPECT_EQ(oci["linux"]["resources"]["pids"]["limit"], 77);
}

// Run with a `user`: merged from the image, resolved to numbers before anything is made.
class ServiceUserTest : public ServiceTest {
protected:
  void SetUp() override {
    ServiceTest::SetUp();
    images::ImageInfo image;
    image.name = "app:1";
    image.chain_id = "sha256:chain";
    image.config.cmd = {"/bin/app"};
    image.config.user = "app";
    images_.addImage("ns1", image);
    images_.addFile("sha256:chain", "/etc/passwd",
                    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n");
    images_.addFile("sha256:chain", "/etc/group", "app:x:1000:\nextra:x:2000:app\n");
    options_.images = &images_;
    service_ = std::make_unique<ContainerService>(fake_, options_);
  }

  ContainerSpec imageSpec(const std::string& user = "") const {
    ContainerSpec spec;
    spec.name = "web";
    spec.image = "app:1";
    spec.network_namespace = "net1";
    spec.user = user;
    return spec;
  }

  nlohmann::json processUser(const std::string& id = "web") const {
    return nlohmann::json::parse(fake_.record("ns1", id).spec_json).at("process").at("user");
  }

  using Reads = std::vector<testing::FakeImageStore::FileRead>;
  testing::FakeImageStore images_;
};

TEST_F(ServiceUserTest, TheImagesUserIsMergedResolvedAndShown) {
  ASSERT_TRUE(service_->run("ns1", imageSpec()));
  EXPECT_EQ(processUser(),
            (nlohmann::json{{"uid", 1000}, {"gid", 1000}, {"additionalGids", {2000}}}));
  EXPECT_EQ(images_.fileReads(), (Reads{{"ns1", "sha256:chain", "/etc/passwd"},
                                        {"ns1", "sha256:chain", "/etc/group"}}));
  auto info = service_->inspect("ns1", "web");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->spec.user, "app");
}

// A pulled image is stored as "host/repo:latest"; Run finds it as "host/repo" too and
// keeps the stored name in the spec and the image label (so RemoveImage sees the user).
TEST_F(ServiceUserTest, AnImageIsFoundByItsNormalisedName) {
  images::ImageInfo pulled;
  pulled.name = "127.0.0.1:5000/ux/busybox:latest";
  pulled.chain_id = "sha256:chain";
  pulled.config.cmd = {"/bin/app"};
  images_.addImage("ns1", pulled);
  auto spec = imageSpec("0:0");
  spec.image = "127.0.0.1:5000/ux/busybox";
  auto id = service_->run("ns1", spec);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(service_->inspect("ns1", "web")->spec.image, "127.0.0.1:5000/ux/busybox:latest");
  EXPECT_EQ(fake_.record("ns1", "web").labels.at(kImageLabel), "127.0.0.1:5000/ux/busybox:latest");
  // A retry of the same Run is the same spec.
  EXPECT_TRUE(service_->run("ns1", spec));
}

TEST_F(ServiceUserTest, TheCallersUserWins) {
  ASSERT_TRUE(service_->run("ns1", imageSpec("0:0")));
  EXPECT_EQ(processUser(), (nlohmann::json{{"uid", 0}, {"gid", 0}}));
  EXPECT_TRUE(images_.fileReads().empty());  // numeric: no view of the image
  EXPECT_EQ(service_->inspect("ns1", "web")->spec.user, "0:0");

  ASSERT_TRUE(service_->run("ns1", [&] {
    auto spec = imageSpec("root");
    spec.name = "named";
    return spec;
  }()));
  EXPECT_EQ(processUser("named"), (nlohmann::json{{"uid", 0}, {"gid", 0}}));
}

TEST_F(ServiceUserTest, AnImageWithoutUserRunsAsRootReadingNothing) {
  images::ImageInfo plain;
  plain.name = "plain:1";
  plain.chain_id = "sha256:plain";
  plain.config.cmd = {"/bin/app"};
  images_.addImage("ns1", plain);
  auto spec = imageSpec();
  spec.image = "plain:1";
  ASSERT_TRUE(service_->run("ns1", spec));
  EXPECT_EQ(processUser(), (nlohmann::json{{"uid", 0}, {"gid", 0}}));
  EXPECT_TRUE(images_.fileReads().empty());
  EXPECT_EQ(service_->inspect("ns1", "web")->spec.user, "");
}

TEST_F(ServiceUserTest, AnUnknownUserCreatesNothing) {
  auto id = service_->run("ns1", imageSpec("nobody"));
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, Code::kInvalidArgument);
  EXPECT_EQ(id.error().message, "user 'nobody': no such user in the container's /etc/passwd");
  auto group = service_->run("ns1", imageSpec("app:wheel"));
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().code, Code::kInvalidArgument);
  EXPECT_NE(group.error().message.find("'wheel'"), std::string::npos) << group.error().message;
  EXPECT_EQ(fake_.containerCount(), 0u);
  EXPECT_EQ(images_.prepareCount(), 0u);
  EXPECT_FALSE(images_.snapshotExists("ns1", "web"));
}

TEST_F(ServiceUserTest, AnUnusableImageUserIsNamedAsTheImages) {
  images::ImageInfo odd;
  odd.name = "odd:1";
  odd.chain_id = "sha256:odd";
  odd.config.cmd = {"/bin/app"};
  odd.config.user = "a:b:c";
  images_.addImage("ns1", odd);
  auto spec = imageSpec();
  spec.image = "odd:1";
  auto id = service_->run("ns1", spec);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, Code::kInvalidArgument);
  EXPECT_EQ(id.error().message.rfind("user: image 'odd:1' has a User", 0), 0u)
      << id.error().message;
  EXPECT_EQ(fake_.containerCount(), 0u);
}

TEST_F(ServiceUserTest, ARootfsContainersUserComesFromItsOwnEtc) {
  auto spec = validSpec();
  spec.user = "1234:5678";
  ASSERT_TRUE(service_->run("ns1", spec));
  EXPECT_EQ(processUser(), (nlohmann::json{{"uid", 1234}, {"gid", 5678}}));

  fs::create_directories(root_ / "rootfs" / "etc");
  std::ofstream(root_ / "rootfs" / "etc" / "passwd") << "svc:x:300:301::/:/bin/sh\n";
  spec = validSpec("named");
  spec.user = "svc";
  ASSERT_TRUE(service_->run("ns1", spec));
  EXPECT_EQ(processUser("named"), (nlohmann::json{{"uid", 300}, {"gid", 301}}));
  spec = validSpec("unknown");
  spec.user = "app";  // the image's user, not in this rootfs
  auto unknown = service_->run("ns1", spec);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kInvalidArgument);
  EXPECT_FALSE(fake_.hasContainer("ns1", "unknown"));
  EXPECT_TRUE(images_.fileReads().empty());
}

TEST_F(ServiceTest, ExistsTellsManagedContainers) {
  EXPECT_FALSE(*service_->exists("ns1", "web"));
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  EXPECT_TRUE(*service_->exists("ns1", "web"));
}

TEST_F(ServiceTest, ExecRefusesWhatTheKernelOrTheClockWould) {
  ASSERT_TRUE(service_->run("ns1", validSpec()));
  using std::chrono::milliseconds;
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad_argv = {
      {{}, "argv"},
      {{""}, "argv"},
      {{"/bin/echo", std::string("a\0b", 3)}, "argv[1]"},
      {{"/bin/echo", std::string(kMaxArgStringBytes + 1, 'a')}, "argv[1]"}};
  for (const auto& [argv, field] : bad_argv) {
    auto refused = service_->exec("ns1", "web", argv, milliseconds(1000));
    ASSERT_FALSE(refused) << field;
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
    EXPECT_EQ(refused.error().message.rfind(field + ": ", 0), 0u) << refused.error().message;
  }
  // A timeout past the bound would overflow the deadline and kill at once: refused.
  for (auto timeout : {milliseconds(0), milliseconds(-5), kMaxExecTimeout + milliseconds(1),
                       milliseconds(std::numeric_limits<std::int64_t>::max())}) {
    auto refused = service_->exec("ns1", "web", {"/bin/true"}, timeout);
    ASSERT_FALSE(refused) << timeout.count();
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
    EXPECT_EQ(refused.error().message.rfind("timeout: ", 0), 0u) << refused.error().message;
  }
}

TEST_F(ServiceTest, AnEmptyNamespaceIsInvalidForEveryOperationOnAContainer) {
  auto expectInvalid = [](const Error& error, const char* op) {
    EXPECT_EQ(error.code, Code::kInvalidArgument) << op << ": " << error.message;
    EXPECT_EQ(error.message.rfind("namespace: ", 0), 0u) << op << ": " << error.message;
  };
  expectInvalid(service_->run("", validSpec()).error(), "run");
  expectInvalid(service_->inspect("", "web").error(), "inspect");
  expectInvalid(service_->remove("", "web").error(), "delete");
  expectInvalid(service_->exists("", "web").error(), "exists");
  expectInvalid(service_->stats("", "web").error(), "stats");
  expectInvalid(service_->logs("", "web", LogQuery{}).error(), "logs");
  expectInvalid(service_->exec("", "web", {"/bin/true"}, std::chrono::seconds(1)).error(), "exec");
}

}  // namespace
}  // namespace contd::container
