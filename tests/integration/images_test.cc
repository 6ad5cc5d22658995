// Images on real parts: import of OCI layout and docker save archives into a private
// containerd, unpack into overlayfs snapshots (whiteouts included), caching of blobs,
// clean failures on bad archives, and removal; the user of containers (the image's User,
// the caller's, a rootfs container's) read from the image's layers without mounting them.
// Images are built by the test itself (image_archives.h).
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include "modules/images/grpc_image_store.h"
#include "modules/images/image_names.h"

#include <sys/mount.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <grpcpp/grpcpp.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/logging.h"
#include "modules/container/log_reader.h"
#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/container_log.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/image_fixture.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/daemon_fixture.h"
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

class ImagesIT : public support::ImageFixture {
protected:
  ImagesIT() : ImageFixture({"contd-images", "img", false}) {}

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

  // Imports userTestImage() as `name`.
  ImageInfo importUserImage(const std::string& name) {
    auto image = support::userTestImage(std::string(support::kDefaultBusybox));
    EXPECT_TRUE(image) << image.error().message;
    if (!image) {
      return {};
    }
    const auto archive = writeArchive("user.tar", support::ociArchive(*image, name));
    auto info = store_->importImage(ns_, archive, "");
    EXPECT_TRUE(info) << info.error().message;
    return info ? *info : ImageInfo{};
  }
};

// The image store sends the namespace as gRPC metadata too: refused, never sent. Every
// image call happens in a namespace, so an empty one is refused the same way.
TEST_F(ImagesIT, NamespacesGrpcCannotSendAreRefusedBeforeAnyCall) {
  for (const std::string bad : {"a\nb", "h1-\xc3\xa9", ""}) {
    SCOPED_TRACE(::testing::PrintToString(bad));
    auto listed = store_->listImages(bad);
    ASSERT_FALSE(listed);
    EXPECT_EQ(listed.error().code, Code::kInvalidArgument) << listed.error().message;
    auto leases = store_->listLeases(bad);
    ASSERT_FALSE(leases);
    EXPECT_EQ(leases.error().code, Code::kInvalidArgument) << leases.error().message;
    auto image = store_->getImage(bad, "busybox");
    ASSERT_FALSE(image);
    EXPECT_EQ(image.error().code, Code::kInvalidArgument) << image.error().message;
  }
}

// The store runs on the client's channel: once the client has reconnected after a
// containerd restart (subscribe() waits for the channel, as the supervisor's re-subscribe
// does), the store's next call succeeds at once. A channel of its own, which the store's
// calls kept failing on while containerd was down (as reconcile discards do), was still
// backing off (gRPC's default: 1 s growing by 1.6 with every failed attempt) and refused it.
TEST_F(ImagesIT, StoreSharesTheClientsChannelAcrossAContainerdRestart) {
  ASSERT_TRUE(store_->listImages(ns_));
  ASSERT_TRUE(containerd_->stop());
  const auto down_until = std::chrono::steady_clock::now() + 6s;
  while (std::chrono::steady_clock::now() < down_until) {
    auto down = store_->removeSnapshot(ns_, "never-made");
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, Code::kUnavailable) << down.error().message;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(containerd_->restart()) << containerd_->logTail();

  Result<std::unique_ptr<containerd::Subscription>> subscription = unavailable("not yet");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    subscription = client_->subscribe(
        {"/tasks/exit"}, [](const containerd::Event&) {}, [](const Error&) {});
    if (subscription || subscription.error().code != Code::kUnavailable) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(subscription) << subscription.error().message;

  // No retry and no wait: a first call that fails is the failure this test is about.
  const auto start = std::chrono::steady_clock::now();
  auto listed = store_->listImages(ns_);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_TRUE(listed->empty());
  auto removed = store_->removeSnapshot(ns_, "never-made");
  EXPECT_TRUE(removed) << removed.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

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

  container::ContainerService service(*client_, serviceOptions());
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
  const std::string output = support::waitForLog(service.logPath(ns_, "fromimg"), "second");
  EXPECT_NE(output.find("second"), std::string::npos) << output;
  EXPECT_EQ(output.find("hello"), std::string::npos) << output;

  auto inspected = service.inspect(ns_, "fromimg");
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ(inspected->spec.image, "run/me:1");
  EXPECT_EQ(inspected->image_digest, info->manifest_digest);
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
  container::ContainerService service(*client_, serviceOptions());
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

TEST_F(ImagesIT, ReadsFilesOfAnImageWithoutMountingAnything) {
  const ImageInfo info = importUserImage("user/files:1");
  ASSERT_EQ(info.diff_ids.size(), 3u);
  const auto before = snapshotKeys();
  auto passwd = store_->readImageFile(ns_, info.chain_id, "/etc/passwd", 1 << 20);
  ASSERT_TRUE(passwd) << passwd.error().message;
  ASSERT_TRUE(passwd->has_value());
  EXPECT_NE((*passwd)->find("app:x:1000:1000"), std::string::npos) << **passwd;
  // Layer 2 whited etc/hello out; layer 1 alone (a bind mount view) still has it.
  auto hello = store_->readImageFile(ns_, info.chain_id, "/etc/hello", 1 << 20);
  ASSERT_TRUE(hello) << hello.error().message;
  EXPECT_FALSE(hello->has_value());
  auto bottom = store_->readImageFile(ns_, chainIds(info.diff_ids).front(), "/etc/hello", 100);
  ASSERT_TRUE(bottom) << bottom.error().message;
  EXPECT_EQ(bottom->value_or(""), "hello\n");
  auto second = store_->readImageFile(ns_, info.chain_id, "/etc/second", 100);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->value_or(""), "second\n");
  auto too_big = store_->readImageFile(ns_, info.chain_id, "/etc/passwd", 10);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, Code::kInvalidArgument);
  auto unknown = store_->readImageFile(ns_, "sha256:" + std::string(64, '0'), "/etc/passwd", 10);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kNotFound) << unknown.error().message;
  // Every view is gone again.
  EXPECT_EQ(snapshotKeys(), before);
}

TEST_F(ImagesIT, RunsAsTheImagesUserWithItsGroups) {
  const ImageInfo info = importUserImage("user/app:1");
  ASSERT_FALSE(info.chain_id.empty());
  EXPECT_EQ(info.config.user, "app");
  auto netns = support::NetworkNamespace::create("img");
  ASSERT_TRUE(netns) << netns.error().message;
  container::ContainerService service(*client_, serviceOptions());
  auto expected_keys = snapshotKeys();

  container::ContainerSpec spec;
  spec.name = "asapp";
  spec.image = "user/app:1";
  spec.network_namespace = (*netns)->name();
  spec.argv = {"/bin/sh", "-c",
               "cat /proc/self/status; id; trap 'exit 0' TERM; "
               "while true; do sleep 1 & wait; done"};
  auto id = service.run(ns_, spec);
  ASSERT_TRUE(id) << id.error().message;
  const std::string output = support::waitForLog(service.logPath(ns_, "asapp"), "groups=");
  EXPECT_NE(output.find("Uid:\t1000\t1000\t1000\t1000"), std::string::npos) << output;
  EXPECT_NE(output.find("Gid:\t1000\t1000\t1000\t1000"), std::string::npos) << output;
  EXPECT_NE(output.find("Groups:\t2000"), std::string::npos) << output;
  EXPECT_NE(output.find("uid=1000(app) gid=1000(app) groups=2000(extra)"), std::string::npos)
      << output;
  auto inspected = service.inspect(ns_, "asapp");
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ(inspected->spec.user, "app");
  // The views are gone; the container's own snapshot is the one new snapshot.
  expected_keys.push_back("asapp");
  std::sort(expected_keys.begin(), expected_keys.end());
  EXPECT_EQ(snapshotKeys(), expected_keys);

  // An exec'd process runs as the container's user.
  auto exec = service.exec(ns_, "asapp", {"/bin/id"}, 10s);
  ASSERT_TRUE(exec) << exec.error().message;
  EXPECT_EQ(exec->exit_code, 0);
  EXPECT_NE(exec->output.find("uid=1000(app) gid=1000(app) groups=2000(extra)"),
            std::string::npos)
      << exec->output;
  ASSERT_TRUE(service.remove(ns_, "asapp"));
}

TEST_F(ImagesIT, TheCallersUserOverridesTheImages) {
  ASSERT_FALSE(importUserImage("user/app:1").chain_id.empty());
  auto netns = support::NetworkNamespace::create("img");
  ASSERT_TRUE(netns) << netns.error().message;
  container::ContainerService service(*client_, serviceOptions());
  container::ContainerSpec spec;
  spec.name = "asroot";
  spec.image = "user/app:1";
  spec.user = "0";
  spec.network_namespace = (*netns)->name();
  spec.argv = {"/bin/cat", "/proc/self/status"};
  auto id = service.run(ns_, spec);
  ASSERT_TRUE(id) << id.error().message;
  const std::string output = support::waitForLog(service.logPath(ns_, "asroot"), "Groups:");
  EXPECT_NE(output.find("Uid:\t0\t0\t0\t0"), std::string::npos) << output;
  EXPECT_NE(output.find("Gid:\t0\t0\t0\t0"), std::string::npos) << output;
  EXPECT_EQ(output.find("2000"), std::string::npos) << output;
  EXPECT_EQ(service.inspect(ns_, "asroot")->spec.user, "0");
}

TEST_F(ImagesIT, AnUnknownUserFailsRunAndLeavesNothing) {
  ASSERT_FALSE(importUserImage("user/app:1").chain_id.empty());
  auto netns = support::NetworkNamespace::create("img");
  ASSERT_TRUE(netns) << netns.error().message;
  container::ContainerService service(*client_, serviceOptions());
  const auto before = snapshotKeys();
  container::ContainerSpec spec;
  spec.name = "nouser";
  spec.image = "user/app:1";
  spec.user = "nobody";
  spec.network_namespace = (*netns)->name();
  auto id = service.run(ns_, spec);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, Code::kInvalidArgument);
  EXPECT_EQ(id.error().message, "user 'nobody': no such user in the container's /etc/passwd");
  spec.user = "app:wheel";
  auto group = service.run(ns_, spec);
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().code, Code::kInvalidArgument);
  EXPECT_NE(group.error().message.find("no such group 'wheel'"), std::string::npos)
      << group.error().message;

  auto record = client_->getContainer(ns_, "nouser");
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().code, Code::kNotFound);
  auto has = store_->hasSnapshot(ns_, "nouser");
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_FALSE(*has);
  EXPECT_EQ(snapshotKeys(), before);  // no view left behind either
}

TEST_F(ImagesIT, ARootfsContainerRunsAsTheGivenNumbers) {
  auto rootfs = support::BusyboxRootfs::build();
  ASSERT_TRUE(rootfs) << rootfs.error().message;
  auto netns = support::NetworkNamespace::create("img");
  ASSERT_TRUE(netns) << netns.error().message;
  container::ContainerService service(*client_, serviceOptions());
  container::ContainerSpec spec;
  spec.name = "numeric";
  spec.rootfs = rootfs->path().string();
  spec.user = "1234:5678";
  spec.network_namespace = (*netns)->name();
  spec.argv = {"/bin/cat", "/proc/self/status"};
  auto id = service.run(ns_, spec);
  ASSERT_TRUE(id) << id.error().message;
  const std::string output = support::waitForLog(service.logPath(ns_, "numeric"), "Groups:");
  EXPECT_NE(output.find("Uid:\t1234\t1234\t1234\t1234"), std::string::npos) << output;
  EXPECT_NE(output.find("Gid:\t5678\t5678\t5678\t5678"), std::string::npos) << output;
  auto oci = service.runtimeSpec(ns_, "numeric");
  ASSERT_TRUE(oci) << oci.error().message;
  EXPECT_EQ(oci->at("process").at("user"), (nlohmann::json{{"uid", 1234}, {"gid", 5678}}));

  // A name is looked up in the rootfs's own /etc/passwd ("root" there; "app" is not).
  spec.name = "named";
  spec.user = "app";
  auto unknown = service.run(ns_, spec);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kInvalidArgument);
  spec.user = "root";
  ASSERT_TRUE(service.run(ns_, spec));
  EXPECT_EQ(service.runtimeSpec(ns_, "named")->at("process").at("user"),
            (nlohmann::json{{"uid", 0}, {"gid", 0}}));
}

}  // namespace
}  // namespace contd::images
