#pragma once
// The fixture of the image tests (import, pull, pull with tokens): what they share on
// real parts.
//
//   per suite    logging, one private containerd, the two-layer test image
//                (image_archives.h testImage(), built from the host's busybox)
//   per test     a GrpcClient and a GrpcImageStore on that containerd, a temp dir and a
//                unique containerd namespace; TearDown purges the namespace and removes
//                its images
//
// A test class derives from ImageFixture, passes the prefixes of its temp dir and namespace
// and whether it needs a registry on loopback (docker-registry, skopeo, htpasswd), and adds
// what only it needs. Needs root, containerd, runc, ip and busybox-static; skips without
// them (fails with CI=true).
// Threading: gtest's main thread only (the private containerd dies with it).

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "modules/containerd/grpc_client.h"
#include "modules/images/grpc_image_store.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/registry.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::testing {

class ImageFixture : public ::testing::Test {
protected:
  struct Options {
    std::string dir_prefix;  // "contd-images"
    std::string ns_prefix;   // "img"
    bool needs_registry = false;
  };

  explicit ImageFixture(Options options) : options_(std::move(options)) {}

  static void SetUpTestSuite() {
    initTestLogging();
    if (!missingContainerdPrerequisites().empty()) {
      return;
    }
    auto containerd = PrivateContainerd::start();
    if (!containerd) {
      suite_error_ = containerd.error().message;
      return;
    }
    containerd_ = std::move(*containerd);
    auto image = testImage(std::string(kDefaultBusybox));
    if (!image) {
      suite_error_ = image.error().message;
      return;
    }
    image_ = std::move(*image);
  }

  static void TearDownTestSuite() { containerd_.reset(); }

  void SetUp() override {
    std::string missing = missingContainerdPrerequisites();
    if (options_.needs_registry) {
      const std::string registry = missingRegistryPrerequisites();
      if (!registry.empty()) {
        missing += (missing.empty() ? "" : ", ") + registry;
      }
    }
    CONTD_REQUIRE_OR_SKIP(missing.empty(), missing);  // "needs ..." already
    ASSERT_TRUE(suite_error_.empty()) << suite_error_;
    ASSERT_NE(containerd_, nullptr);
    auto client = containerd::GrpcClient::connect(containerd_->socketPath(),
                                                  std::chrono::seconds(5));
    ASSERT_TRUE(client) << client.error().message;
    client_ = std::move(*client);
    auto dir = TempDir::make(options_.dir_prefix);
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    ns_ = uniqueName(options_.ns_prefix);
    connectStore({});
  }

  void TearDown() override {
    if (!client_) {
      return;
    }
    EXPECT_TRUE(purgeNamespace(*client_, ns_));
    if (store_) {
      if (auto images = store_->listImages(ns_); images) {
        for (const auto& image : *images) {
          EXPECT_TRUE(store_->removeImage(ns_, image.name));
        }
      }
    }
  }

  // A store of its own settings (parallel fetches, ...) in place of the default one.
  void connectStore(images::GrpcImageStore::Options options) {
    auto store = images::GrpcImageStore::connect(containerd_->socketPath(), options);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }

  // Writes `data` as `name` in the temp dir; returns its path.
  std::string writeArchive(const std::string& name, const std::string& data) {
    const auto path = dir_->path() / name;
    std::ofstream(path, std::ios::binary) << data;
    return path.string();
  }

  static inline std::unique_ptr<PrivateContainerd> containerd_;
  static inline TestImage image_;
  static inline std::string suite_error_;
  Options options_;
  std::unique_ptr<containerd::GrpcClient> client_;
  std::unique_ptr<images::GrpcImageStore> store_;
  std::optional<TempDir> dir_;
  std::string ns_;
};

}  // namespace contd::testing
