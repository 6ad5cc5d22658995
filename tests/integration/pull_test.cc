// Pulls from a real registry on loopback (Debian's docker-registry, filled by skopeo) into a
// private containerd: pull -> run -> delete, caching (a second pull fetches no blob, proven
// from the registry's access log), basic auth, the registry going away mid-pull and a retry
// fetching only the rest, a corrupted blob, bad references, and contctl pull.
//
// Needs root, containerd, runc, ip, busybox-static, docker-registry, skopeo and htpasswd;
// skips without them (fails with CI=true).

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/common/logging.h"
#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "modules/images/grpc_image_store.h"
#include "tests/integration/container_log.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/image_fixture.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/registry.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::images {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;
using State = PullProgress::State;

class PullIT : public support::ImageFixture {
protected:
  PullIT() : ImageFixture({"contd-pull", "pull", true}) {}

  // A registry with the test image pushed as test/two:1 (OCI archive through skopeo).
  std::unique_ptr<support::LocalRegistry> registryWithImage(
      support::LocalRegistry::Options options = {}) {
    auto registry = support::LocalRegistry::start(options);
    EXPECT_TRUE(registry) << registry.error().message;
    if (!registry) {
      return nullptr;
    }
    const auto archive = dir_->path() / "two.tar";
    std::ofstream(archive, std::ios::binary) << support::ociArchive(image_, "test/two:1");
    const Status pushed = (*registry)->push(archive.string(), "oci-archive", "test/two:1");
    EXPECT_TRUE(pushed) << pushed.error().message;
    return std::move(*registry);
  }

  // Pulls, recording every progress step.
  Result<ImageInfo> pull(const std::string& ref, std::vector<PullProgress>* steps = nullptr,
                         const std::string& user = "", const std::string& password = "") {
    PullRequest request{ref, user, password, true};
    std::mutex mutex;
    return store_->pullImage(ns_, request, [&](const PullProgress& step) {
      std::lock_guard lock(mutex);
      if (steps != nullptr) {
        steps->push_back(step);
      }
      return true;
    });
  }

  // After a failed pull: no image, no lease, no blob and no snapshot in the namespace.
  void expectNothingLeft() {
    auto images = store_->listImages(ns_);
    ASSERT_TRUE(images) << images.error().message;
    EXPECT_TRUE(images->empty());
    auto leases = store_->listLeases(ns_);
    ASSERT_TRUE(leases) << leases.error().message;
    EXPECT_TRUE(leases->empty());
    EXPECT_EQ(ctrLines({"content", "ls", "-q"}), std::vector<std::string>{});
    EXPECT_EQ(snapshotKeys(), std::vector<std::string>{});
  }

  static std::size_t count(const std::vector<PullProgress>& steps, State state) {
    return static_cast<std::size_t>(std::count_if(
        steps.begin(), steps.end(), [&](const PullProgress& s) { return s.state == state; }));
  }
};

TEST_F(PullIT, PullsRunsAndASecondPullFetchesNoBlob) {
  auto registry = registryWithImage();
  ASSERT_NE(registry, nullptr);
  const std::string ref = registry->host() + "/test/two:1";
  std::vector<PullProgress> steps;
  auto info = pull(ref, &steps);
  ASSERT_TRUE(info) << info.error().message << "\n" << registry->logTail();
  EXPECT_EQ(info->name, ref);
  ASSERT_EQ(info->diff_ids.size(), 2u);
  EXPECT_EQ(info->config.cmd, (std::vector<std::string>{"/bin/ls", "/etc"}));
  EXPECT_EQ(count(steps, State::kResolved), 1u);
  EXPECT_EQ(count(steps, State::kFetched), 2u);
  EXPECT_EQ(count(steps, State::kUnpacked), 2u);
  EXPECT_EQ(count(steps, State::kCached), 0u);
  // config + two layers, each fetched once
  const auto first = registry->awaitBlobGets("test/two", 3);
  EXPECT_EQ(first.size(), 3u);
  auto leases = store_->listLeases(ns_);
  ASSERT_TRUE(leases) << leases.error().message;
  EXPECT_TRUE(leases->empty());

  // Run from the pulled image: its Cmd lists /etc of the unpacked layers.
  auto netns = support::NetworkNamespace::create("pull");
  ASSERT_TRUE(netns) << netns.error().message;
  container::ContainerService service(*client_, serviceOptions());
  container::ContainerSpec spec;
  spec.name = "pulled";
  spec.image = ref;
  spec.network_namespace = (*netns)->name();
  auto id = service.run(ns_, spec);
  ASSERT_TRUE(id) << id.error().message;
  auto exit = client_->waitTask(ns_, "pulled", 10s);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_EQ(exit->code, 0u);
  const std::string output = support::waitForLog(service.logPath(ns_, "pulled"), "second");
  EXPECT_NE(output.find("second"), std::string::npos) << output;
  EXPECT_EQ(output.find("hello"), std::string::npos) << output;  // layer 2's whiteout
  auto inspected = service.inspect(ns_, "pulled");
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ(inspected->spec.image, ref);
  EXPECT_EQ(inspected->image_digest, info->manifest_digest);
  ASSERT_TRUE(service.remove(ns_, "pulled"));
  auto has = store_->hasSnapshot(ns_, "pulled");
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_FALSE(*has);

  // Again: the manifest is asked for, but no blob is transferred.
  steps.clear();
  auto again = pull(ref, &steps);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->manifest_digest, info->manifest_digest);
  EXPECT_EQ(count(steps, State::kCached), 2u);
  EXPECT_EQ(count(steps, State::kFetching), 0u);
  std::this_thread::sleep_for(300ms);  // let a (wrong) late access-log line arrive
  EXPECT_EQ(registry->blobGets("test/two"), first);
}

TEST_F(PullIT, BasicAuthWithoutCredentialsIsAClearErrorAndWithThemWorks) {
  support::LocalRegistry::Options options;
  options.basic_auth = true;
  auto registry = registryWithImage(options);
  ASSERT_NE(registry, nullptr);
  const std::string ref = registry->host() + "/test/two:1";

  auto anonymous = pull(ref);
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code, Code::kUnauthenticated) << anonymous.error().message;
  EXPECT_NE(anonymous.error().message.find("credentials needed"), std::string::npos)
      << anonymous.error().message;

  auto wrong = pull(ref, nullptr, options.user, "not-the-password");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::kUnauthenticated) << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("credentials refused"), std::string::npos)
      << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("not-the-password"), std::string::npos);
  expectNothingLeft();

  auto info = pull(ref, nullptr, options.user, options.password);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->name, ref);
}

TEST_F(PullIT, RegistryGoneMidPullThenARetryFetchesOnlyWhatWasMissing) {
  GrpcImageStore::Options one_at_a_time;
  one_at_a_time.parallel_fetches = 1;
  connectStore(one_at_a_time);
  auto registry = registryWithImage();
  ASSERT_NE(registry, nullptr);
  const std::string ref = registry->host() + "/test/two:1";

  // Stop the registry as soon as the first layer is in: the second cannot be fetched.
  std::string fetched_first;
  PullRequest request{ref, "", "", true};
  auto broken = store_->pullImage(ns_, request, [&](const PullProgress& step) {
    if (step.state == State::kFetched && fetched_first.empty()) {
      fetched_first = step.digest;
      EXPECT_TRUE(registry->stop());
    }
    return true;
  });
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, Code::kUnavailable) << broken.error().message;
  EXPECT_NE(broken.error().message.find(registry->host()), std::string::npos)
      << broken.error().message;
  ASSERT_FALSE(fetched_first.empty());
  auto images = store_->listImages(ns_);
  ASSERT_TRUE(images) << images.error().message;
  EXPECT_TRUE(images->empty());
  const auto before = registry->blobGets("test/two");  // config + the first layer
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before.back(), fetched_first);

  ASSERT_TRUE(registry->restart());
  std::vector<PullProgress> steps;
  auto info = pull(ref, &steps);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(count(steps, State::kCached), 1u);
  EXPECT_EQ(count(steps, State::kFetched), 1u);
  const auto after = registry->awaitBlobGets("test/two", before.size() + 1);
  ASSERT_EQ(after.size(), before.size() + 1) << "only the missing layer is fetched again";
  EXPECT_NE(after.back(), fetched_first);
  auto unpacked = store_->hasSnapshot(ns_, info->chain_id);
  ASSERT_TRUE(unpacked) << unpacked.error().message;
  EXPECT_TRUE(*unpacked);
  // The failed pull's lease waits for its expiry; the retry deleted its own.
  auto leases = store_->listLeases(ns_);
  ASSERT_TRUE(leases) << leases.error().message;
  EXPECT_EQ(leases->size(), 1u);
}

TEST_F(PullIT, CorruptedBlobIsADigestMismatchAndLeavesNothing) {
  auto registry = registryWithImage();
  ASSERT_NE(registry, nullptr);
  // Layer 1 (busybox, gzip) is the largest blob in storage: flip a byte in its middle.
  std::string largest;
  std::uintmax_t largest_size = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(registry->dir() + "/storage")) {
    if (entry.is_regular_file() && entry.path().filename() == "data" &&
        entry.file_size() > largest_size) {
      largest = entry.path().string();
      largest_size = entry.file_size();
    }
  }
  ASSERT_GT(largest_size, 100'000u);
  {
    std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(largest_size / 2));
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x55);
    file.seekp(static_cast<std::streamoff>(largest_size / 2));
    file.write(&byte, 1);
  }
  auto info = pull(registry->host() + "/test/two:1");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Code::kFailedPrecondition) << info.error().message;
  EXPECT_NE(info.error().message.find("does not match"), std::string::npos)
      << info.error().message;
  expectNothingLeft();
}

TEST_F(PullIT, BadReferencesUnknownTagsUnreachableRegistriesAndOtherPlatforms) {
  auto registry = registryWithImage();
  ASSERT_NE(registry, nullptr);

  auto bad = pull("UPPER/case:1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("ref"), std::string::npos) << bad.error().message;

  auto unknown_tag = pull(registry->host() + "/test/two:nope");
  ASSERT_FALSE(unknown_tag);
  EXPECT_EQ(unknown_tag.error().code, Code::kNotFound) << unknown_tag.error().message;
  EXPECT_NE(unknown_tag.error().message.find("nope"), std::string::npos)
      << unknown_tag.error().message;

  auto unknown_repo = pull(registry->host() + "/no/such:1");
  ASSERT_FALSE(unknown_repo);
  EXPECT_EQ(unknown_repo.error().code, Code::kNotFound) << unknown_repo.error().message;

  // An image whose config is for arm64 only.
  support::TestImage arm = image_;
  const auto at = arm.config.find("\"amd64\"");
  ASSERT_NE(at, std::string::npos);
  arm.config.replace(at, 7, "\"arm64\"");
  const auto archive = dir_->path() / "arm.tar";
  std::ofstream(archive, std::ios::binary) << support::ociArchive(arm, "test/arm:1");
  ASSERT_TRUE(registry->push(archive.string(), "oci-archive", "test/arm:1"));
  auto other = pull(registry->host() + "/test/arm:1");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Code::kInvalidArgument) << other.error().message;
  EXPECT_NE(other.error().message.find("linux/arm64"), std::string::npos)
      << other.error().message;

  // The registry speaks plain HTTP: without plain_http the TLS handshake gets an HTTP
  // answer, and the error says what to do.
  PullRequest tls{registry->host() + "/test/two:1", "", "", false};
  auto plain = store_->pullImage(ns_, tls, [](const PullProgress&) { return true; });
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code, Code::kFailedPrecondition) << plain.error().message;
  EXPECT_NE(plain.error().message.find("registry '" + registry->host() +
                                       "' answered in plain HTTP; pull with --plain-http "
                                       "(contctl) / plain_http (API) if it is meant to"),
            std::string::npos)
      << plain.error().message;

  const std::string host = registry->host();
  ASSERT_TRUE(registry->stop());
  auto unreachable = pull(host + "/test/two:1");
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, Code::kUnavailable) << unreachable.error().message;
  EXPECT_NE(unreachable.error().message.find(host), std::string::npos)
      << unreachable.error().message;
  expectNothingLeft();
}

TEST_F(PullIT, ContctlPullShowsProgressAndTheImageRuns) {
  auto registry = registryWithImage();
  ASSERT_NE(registry, nullptr);
  auto netns = support::NetworkNamespace::create("pull");
  ASSERT_TRUE(netns) << netns.error().message;
  auto daemon = support::startContd(containerd_->socketPath(), dir_->path() / "contd");
  ASSERT_TRUE(daemon) << daemon.error().message;
  const auto ctl = [&](const std::vector<std::string>& args) {
    return support::runContctl((*daemon)->socketPath(), args, 60s);
  };
  const std::string ref = registry->host() + "/test/two:1";

  auto pulled = ctl({"pull", ns_, ref, "--plain-http"});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  // Not a terminal: one line per change of state, the image last.
  EXPECT_NE(pulled.out.find("manifest"), std::string::npos) << pulled.out;
  EXPECT_NE(pulled.out.find("layer 2"), std::string::npos) << pulled.out;
  EXPECT_NE(pulled.out.find("fetched"), std::string::npos) << pulled.out;
  EXPECT_NE(pulled.out.find("unpacked"), std::string::npos) << pulled.out;
  EXPECT_NE(pulled.out.find(ref + "  sha256:"), std::string::npos) << pulled.out;

  auto run = ctl({"run", ns_, "c1", "--image", ref, "--netns", (*netns)->name()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto removed = ctl({"rm", ns_, "c1"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;

  auto again = ctl({"pull", ns_, ref, "--plain-http"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("cached"), std::string::npos) << again.out;

  auto refused = ctl({"pull", ns_, registry->host() + "/test/two:nope", "--plain-http"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("nope"), std::string::npos) << refused.err;

  auto tls = ctl({"pull", ns_, ref});
  EXPECT_EQ(tls.exit_code, 1);
  EXPECT_NE(tls.err.find("FAILED_PRECONDITION: "), std::string::npos) << tls.err;
  EXPECT_NE(tls.err.find("answered in plain HTTP; pull with --plain-http"), std::string::npos)
      << tls.err;
  EXPECT_EQ(std::count(tls.err.begin(), tls.err.end(), '\n'), 1) << "one line: " << tls.err;
}

// One rule for image names (docs/decisions/image-names.md): pull stores "host/repo:latest",
// and run --image and rmi find it as "host/repo" too, in the daemon.
TEST_F(PullIT, RunAndRmiFindAPulledImageByTheReferenceItWasPulledWith) {
  auto registry = support::LocalRegistry::start({});
  ASSERT_TRUE(registry) << registry.error().message;
  const auto archive = dir_->path() / "ux.tar";
  std::ofstream(archive, std::ios::binary) << support::ociArchive(image_, "ux/busybox:latest");
  const Status pushed = (*registry)->push(archive.string(), "oci-archive", "ux/busybox:latest");
  ASSERT_TRUE(pushed) << pushed.error().message;
  auto netns = support::NetworkNamespace::create("pull");
  ASSERT_TRUE(netns) << netns.error().message;
  auto daemon = support::startContd(containerd_->socketPath(), dir_->path() / "contd");
  ASSERT_TRUE(daemon) << daemon.error().message;
  const auto ctl = [&](const std::vector<std::string>& args) {
    return support::runContctl((*daemon)->socketPath(), args, 60s);
  };
  const std::string ref = (*registry)->host() + "/ux/busybox";

  auto pulled = ctl({"pull", ns_, ref, "--plain-http"});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.out.find(ref + ":latest  sha256:"), std::string::npos) << pulled.out;
  auto run = ctl({"run", ns_, "c1", "--image", ref, "--netns", (*netns)->name()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto inspected = ctl({"--json", "inspect", ns_, "c1"});
  auto info = nlohmann::json::parse(inspected.out, nullptr, false);
  ASSERT_FALSE(info.is_discarded()) << inspected.out;
  EXPECT_EQ(info["spec"]["image"], ref + ":latest") << inspected.out;
  auto refused = ctl({"rmi", ns_, ref});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("in use by container 'c1'"), std::string::npos) << refused.err;
  ASSERT_EQ(ctl({"rm", ns_, "c1"}).exit_code, 0);
  auto removed = ctl({"rmi", ns_, ref});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  auto images = store_->listImages(ns_);
  ASSERT_TRUE(images) << images.error().message;
  EXPECT_TRUE(images->empty());
  auto gone = ctl({"rmi", ns_, ref});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("NOT_FOUND"), std::string::npos) << gone.err;
}

}  // namespace
}  // namespace contd::images
