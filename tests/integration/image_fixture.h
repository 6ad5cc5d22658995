#pragma once
// The fixture of the image tests (import, pull, pull with tokens): what they share on
// real parts.
//
//   per suite    logging, one private containerd, the two-layer test image
//                (image_archives.h testImage(), built from the host's busybox)
//   per test     a GrpcClient and a GrpcImageStore over the client's connection (as in
//                contd), a temp dir and a unique containerd namespace; TearDown purges the
//                namespace and removes its images
//
// A test class derives from ImageFixture, passes the prefixes of its temp dir and namespace
// and whether it needs a registry on loopback (docker-registry, skopeo, htpasswd), and adds
// what only it needs. Needs root, containerd, runc, ip and busybox-static; skips without
// them (fails with CI=true). Header-only: CONTD_SHIM_LOGS_BIN is a compile definition of
// each integration test executable.
// Threading: gtest's main thread only (the private containerd dies with it).

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "modules/images/grpc_image_store.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/registry.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/suite_containerd.h"
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
    suite_error_ = startSuiteContainerd(containerd_, /*rootfs=*/nullptr);
    if (!suite_error_.empty()) {
      return;
    }
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

  // A store of its own settings (parallel fetches, ...) in place of the default one, over
  // the client's connection.
  void connectStore(images::GrpcImageStore::Options options) {
    auto store = images::GrpcImageStore::create(client_->connection(), options);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }

  // A ContainerService's options on this fixture: logs in the temp dir, the build's log
  // driver, this store.
  container::ServiceOptions serviceOptions() const {
    container::ServiceOptions options;
    options.log_root = dir_->path() / "logs";
    options.log_shim = CONTD_SHIM_LOGS_BIN;
    options.images = store_.get();
    return options;
  }

  // The non-empty lines `ctr <args>` prints for the test namespace.
  std::vector<std::string> ctrLines(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"ctr", "--address", containerd_->socketPath(), "-n", ns_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto out = runChecked(argv);
    EXPECT_TRUE(out) << out.error().message;
    std::vector<std::string> lines;
    std::string line;
    std::istringstream stream(out ? *out : "");
    while (std::getline(stream, line)) {
      if (!line.empty()) {
        lines.push_back(line);
      }
    }
    return lines;
  }

  // The keys of the namespace's snapshots, sorted.
  std::vector<std::string> snapshotKeys() const {
    std::vector<std::string> keys;
    const auto lines = ctrLines({"snapshots", "--snapshotter", images::kSnapshotter, "ls"});
    for (std::size_t i = 1; i < lines.size(); ++i) {  // lines[0]: "KEY  PARENT  KIND"
      keys.push_back(lines[i].substr(0, lines[i].find_first_of(" \t")));
    }
    std::sort(keys.begin(), keys.end());
    return keys;
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
