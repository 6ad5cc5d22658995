// Images on real parts: import of OCI layout and docker save archives into a private
// containerd, unpack into overlayfs snapshots (whiteouts included), caching of blobs,
// clean failures on bad archives, and removal. Images are built by the test itself
// (image_archives.h).
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include "modules/images/grpc_image_store.h"

#include <sys/mount.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "modules/common/logging.h"
#include "modules/container/log_reader.h"
#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::images {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;

class ImagesIT : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    const char* level = std::getenv("CONTD_LOG_LEVEL");
    log::init(level != nullptr && log::isValidLevel(level) ? level : "warn");
    if (!support::missingContainerdPrerequisites().empty()) {
      return;
    }
    auto containerd = support::PrivateContainerd::start();
    if (!containerd) {
      suite_error_ = containerd.error().message;
      return;
    }
    containerd_ = std::move(*containerd);
    auto image = support::testImage(std::string(support::kDefaultBusybox));
    if (!image) {
      suite_error_ = image.error().message;
      return;
    }
    image_ = std::move(*image);
  }

  static void TearDownTestSuite() { containerd_.reset(); }

  void SetUp() override {
    const std::string missing = support::missingContainerdPrerequisites();
    CONTD_REQUIRE_OR_SKIP(missing.empty(), "needs " << missing);
    ASSERT_TRUE(suite_error_.empty()) << suite_error_;
    ASSERT_NE(containerd_, nullptr);
    auto client = containerd::GrpcClient::connect(containerd_->socketPath(), 5s);
    ASSERT_TRUE(client) << client.error().message;
    client_ = std::move(*client);
    auto store = GrpcImageStore::connect(containerd_->socketPath());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto dir = support::TempDir::make("contd-images");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    ns_ = support::uniqueName("img");
  }

  void TearDown() override {
    if (!client_) {
      return;
    }
    EXPECT_TRUE(support::purgeNamespace(*client_, ns_));
    if (store_) {
      if (auto images = store_->listImages(ns_); images) {
        for (const auto& image : *images) {
          EXPECT_TRUE(store_->removeImage(ns_, image.name));
        }
      }
    }
  }

  std::string writeArchive(const std::string& name, const std::string& data) {
    const auto path = dir_->path() / name;
    std::ofstream(path, std::ios::binary) << data;
    return path.string();
  }

  // Mounts the snapshot `key` (prepared on `parent`) and lists its /etc.
  std::vector<std::string> listEtc(const std::string& parent) {
    const std::string key = "view-" + support::uniqueName("v");
    auto mounts = store_->prepareSnapshot(ns_, key, parent);
    EXPECT_TRUE(mounts) << mounts.error().message;
    std::vector<std::string> names;
    if (!mounts || mounts->size() != 1) {
      return names;
    }
    const auto target = dir_->path() / "mnt";
    std::filesystem::create_directories(target);
    std::string options;
    for (const auto& option : (*mounts)[0].options) {
      options += (options.empty() ? "" : ",") + option;
    }
    EXPECT_EQ(::mount((*mounts)[0].source.c_str(), target.c_str(), (*mounts)[0].type.c_str(), 0,
                      options.c_str()),
              0)
        << std::strerror(errno);
    for (const auto& entry : std::filesystem::directory_iterator(target / "etc")) {
      names.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(::umount2(target.c_str(), MNT_DETACH), 0);
    EXPECT_TRUE(store_->removeSnapshot(ns_, key));
    std::sort(names.begin(), names.end());
    return names;
  }

  static inline std::unique_ptr<support::PrivateContainerd> containerd_;
  static inline support::TestImage image_;
  static inline std::string suite_error_;
  std::unique_ptr<containerd::GrpcClient> client_;
  std::unique_ptr<GrpcImageStore> store_;
  std::optional<support::TempDir> dir_;
  std::string ns_;
};

TEST_F(ImagesIT, ImportsOciLayoutAndUnpacksWithWhiteouts) {
  const auto archive = writeArchive("oci.tar", support::ociArchive(image_, "test/two:1"));
  auto info = store_->importImage(ns_, archive, "");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->name, "test/two:1");
  ASSERT_EQ(info->diff_ids.size(), 2u);
  EXPECT_EQ(info->chain_id, chainIds(info->diff_ids).back());
  EXPECT_EQ(info->config.cmd, (std::vector<std::string>{"/bin/ls", "/etc"}));
  auto has = store_->hasSnapshot(ns_, info->chain_id);
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_TRUE(*has);
  EXPECT_EQ(listEtc(info->chain_id), (std::vector<std::string>{"second"}));
  EXPECT_EQ(listEtc(chainIds(info->diff_ids).front()), (std::vector<std::string>{"hello"}));
  auto leases = store_->listLeases(ns_);
  ASSERT_TRUE(leases) << leases.error().message;
  EXPECT_TRUE(leases->empty());
}

TEST_F(ImagesIT, ImportsDockerSaveAndReimportWritesNothing) {
  const auto archive = writeArchive("docker.tar", support::dockerArchive(image_, "test/dock:2"));
  auto info = store_->importImage(ns_, archive, "mine");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->name, "mine");
  EXPECT_EQ(listEtc(info->chain_id), (std::vector<std::string>{"second"}));
  const auto written = store_->blobsWritten();
  EXPECT_EQ(written, 4u);  // config, manifest, two layers

  auto again = store_->importImage(ns_, archive, "mine");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->manifest_digest, info->manifest_digest);
  EXPECT_EQ(store_->blobsWritten(), written);

  auto list = store_->listImages(ns_);
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "mine");
}

TEST_F(ImagesIT, TruncatedArchiveFailsAndLeavesNothing) {
  const std::string whole = support::ociArchive(image_, "test/trunc:1");
  const auto archive = writeArchive("trunc.tar", whole.substr(0, whole.size() / 2 + 100));
  auto info = store_->importImage(ns_, archive, "");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Code::kInvalidArgument);
  EXPECT_NE(info.error().message.find("truncated"), std::string::npos) << info.error().message;
  auto list = store_->listImages(ns_);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_TRUE(list->empty());
  auto leases = store_->listLeases(ns_);
  ASSERT_TRUE(leases) << leases.error().message;
  EXPECT_TRUE(leases->empty());
}

TEST_F(ImagesIT, CorruptBlobFailsWithDigestMismatch) {
  std::string data = support::ociArchive(image_, "test/bad:1");
  // The first blob after the headers of oci-layout and the folders is layer 1 (gzip):
  // flip a byte in the middle of the archive's first megabyte of it.
  data[512 * 5 + 4096] = static_cast<char>(data[512 * 5 + 4096] ^ 0x55);
  auto info = store_->importImage(ns_, writeArchive("bad.tar", data), "");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Code::kInvalidArgument);
  EXPECT_NE(info.error().message.find("digest mismatch"), std::string::npos)
      << info.error().message;

  std::string docker = support::dockerArchive(image_, "test/bad:2");
  const std::size_t at = docker.find("second\n");
  ASSERT_NE(at, std::string::npos);
  docker[at] = 'S';
  auto docker_info = store_->importImage(ns_, writeArchive("bad-docker.tar", docker), "");
  ASSERT_FALSE(docker_info);
  EXPECT_NE(docker_info.error().message.find("digest mismatch"), std::string::npos)
      << docker_info.error().message;

  auto list = store_->listImages(ns_);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_TRUE(list->empty());
  auto leases = store_->listLeases(ns_);
  ASSERT_TRUE(leases) << leases.error().message;
  EXPECT_TRUE(leases->empty());
}

TEST_F(ImagesIT, RemoveImageRefusedWhileAContainerUsesIt) {
  const auto archive = writeArchive("oci.tar", support::ociArchive(image_, "test/used:1"));
  auto info = store_->importImage(ns_, archive, "");
  ASSERT_TRUE(info) << info.error().message;
  containerd::ContainerRecord record;
  record.id = "user";
  record.labels[kImageLabel] = "test/used:1";
  record.spec_json = "{}";
  ASSERT_TRUE(client_->createContainer(ns_, record));
  const Status refused = store_->removeImage(ns_, "test/used:1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition);
  EXPECT_NE(refused.error().message.find("'user'"), std::string::npos) << refused.error().message;
  ASSERT_TRUE(client_->deleteContainer(ns_, "user"));
  EXPECT_TRUE(store_->removeImage(ns_, "test/used:1"));
  auto gone = store_->getImage(ns_, "test/used:1");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kNotFound);
}

TEST_F(ImagesIT, RunsAContainerFromAnImportedImage) {
  const auto archive = writeArchive("docker.tar", support::dockerArchive(image_, "run/me:1"));
  auto info = store_->importImage(ns_, archive, "");
  ASSERT_TRUE(info) << info.error().message;
  auto netns = support::NetworkNamespace::create("img");
  ASSERT_TRUE(netns) << netns.error().message;

  container::ServiceOptions options;
  options.log_root = dir_->path() / "logs";
  options.log_shim = CONTD_SHIM_LOGS_BIN;
  options.images = store_.get();
  container::ContainerService service(*client_, options);
  container::ContainerSpec spec;
  spec.name = "fromimg";
  spec.image = "run/me:1";
  spec.network_namespace = (*netns)->name();
  auto id = service.run(ns_, spec);
  ASSERT_TRUE(id) << id.error().message;
  auto exit = client_->waitTask(ns_, "fromimg", 10s);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 0u);

  // The image's Cmd (ls /etc) ran on the unpacked layers: layer 2's whiteout hid hello.
  std::string output;
  for (int i = 0; i < 50 && output.find("second") == std::string::npos; ++i) {
    auto lines = container::readLog(service.logPath(ns_, "fromimg"), {});
    output.clear();
    if (lines) {
      for (const auto& line : *lines) {
        output += line.text + "\n";
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(output.find("second"), std::string::npos) << output;
  EXPECT_EQ(output.find("hello"), std::string::npos) << output;

  auto inspected = service.inspect(ns_, "fromimg");
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ(inspected->spec.image, "run/me:1");
  EXPECT_EQ(inspected->spec.argv, (std::vector<std::string>{"/bin/ls", "/etc"}));
  EXPECT_NE(std::find(inspected->spec.env.begin(), inspected->spec.env.end(), "FROM_IMAGE=yes"),
            inspected->spec.env.end());
  auto has = store_->hasSnapshot(ns_, "fromimg");
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_TRUE(*has);

  const Status refused = store_->removeImage(ns_, "run/me:1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition);

  ASSERT_TRUE(service.remove(ns_, "fromimg"));
  has = store_->hasSnapshot(ns_, "fromimg");
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_FALSE(*has);
  EXPECT_TRUE(store_->removeImage(ns_, "run/me:1"));
}

TEST_F(ImagesIT, RunRefusesUnknownImageAndBothRootfsAndImage) {
  container::ServiceOptions options;
  options.log_root = dir_->path() / "logs";
  options.log_shim = CONTD_SHIM_LOGS_BIN;
  options.images = store_.get();
  container::ContainerService service(*client_, options);
  auto netns = support::NetworkNamespace::create("img");
  ASSERT_TRUE(netns) << netns.error().message;
  container::ContainerSpec spec;
  spec.name = "nope";
  spec.image = "no/such:image";
  spec.network_namespace = (*netns)->name();
  auto unknown = service.run(ns_, spec);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kNotFound);
  EXPECT_NE(unknown.error().message.find("no/such:image"), std::string::npos)
      << unknown.error().message;
  spec.rootfs = dir_->string();
  auto both = service.run(ns_, spec);
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, Code::kInvalidArgument);
}

TEST_F(ImagesIT, ContctlImportsListsRunsAndRemovesAnImage) {
  auto netns = support::NetworkNamespace::create("img");
  ASSERT_TRUE(netns) << netns.error().message;
  support::ContdDaemon::Options options;
  options.binary = CONTD_BIN;
  options.containerd_socket = containerd_->socketPath();
  options.dir = dir_->path() / "contd";
  std::filesystem::create_directories(options.dir);
  auto daemon = support::ContdDaemon::start(options);
  ASSERT_TRUE(daemon) << daemon.error().message;
  const auto ctl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {CONTCTL_BIN, "--socket", (*daemon)->socketPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = support::runCommand(argv, 60s);
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : support::CommandResult{};
  };
  const auto archive = writeArchive("ctl.tar", support::ociArchive(image_, "ctl/img:1"));

  auto imported = ctl({"import", ns_, archive, "--name", "ctl/named:1"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("ctl/named:1"), std::string::npos) << imported.out;
  auto listed = ctl({"images", "-n", ns_});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("ctl/named:1"), std::string::npos) << listed.out;

  auto run = ctl({"run", ns_, "c1", "--image", "ctl/named:1", "--netns", (*netns)->name()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto refused = ctl({"rmi", ns_, "ctl/named:1"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("in use by container 'c1'"), std::string::npos) << refused.err;

  auto removed = ctl({"rm", ns_, "c1"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  auto has = store_->hasSnapshot(ns_, "c1");
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_FALSE(*has);
  auto rmi = ctl({"rmi", ns_, "ctl/named:1"});
  EXPECT_EQ(rmi.exit_code, 0) << rmi.err;
  listed = ctl({"images", "-n", ns_});
  EXPECT_EQ(listed.out.find("ctl/named:1"), std::string::npos) << listed.out;

  auto bad = ctl({"import", ns_, dir_->string() + "/missing.tar"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("missing.tar"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace contd::images
