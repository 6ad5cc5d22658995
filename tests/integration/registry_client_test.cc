// The registry client on real parts: RegistryClient over CurlHttpClient against a
// distribution registry of the test's own on loopback (support/registry.h), filled by
// skopeo with images the test builds itself (image_archives.h). Covers manifests and
// streamed blobs of an OCI and a docker push, unknown tags and repositories, basic auth,
// an unreachable registry, and a blob corrupted in the registry's storage.
//
// Needs docker-registry, skopeo, htpasswd (apache2-utils) and busybox-static; skips without
// them (fails with CI=true). No root needed.

#include "modules/registry/registry_client.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/common/logging.h"
#include "modules/registry/curl_http_client.h"
#include "modules/registry/reference.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/registry.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::registry {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;

// The content of a gzip stream; "" when it is not one.
std::string gunzip(const std::string& data) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) {
    return "";
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
  }
  inflateEnd(&stream);
  return rc == Z_STREAM_END ? out : "";
}

class RegistryClientIT : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    const char* level = std::getenv("CONTD_LOG_LEVEL");
    log::init(level != nullptr && log::isValidLevel(level) ? level : "warn");
  }

  void SetUp() override {
    std::string missing = support::missingRegistryPrerequisites();
    if (auto busybox = support::checkStaticBusybox(support::kDefaultBusybox); !busybox) {
      missing += (missing.empty() ? "needs " : ", ") + busybox.error().message;
    }
    CONTD_REQUIRE_OR_SKIP(missing.empty(), missing);
    auto image = support::testImage(std::string(support::kDefaultBusybox));
    ASSERT_TRUE(image) << image.error().message;
    image_ = std::move(*image);
    auto dir = support::TempDir::make("contd-registry-test");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    auto http = CurlHttpClient::create(CurlHttpClient::Options{.connect_timeout = 5s,
                                                               .stall_timeout = 10s});
    ASSERT_TRUE(http) << http.error().message;
    http_ = std::move(*http);
  }

  // Starts a registry; the test fails (and returns nullptr) when it does not come up.
  std::unique_ptr<support::LocalRegistry> startRegistry(
      support::LocalRegistry::Options options = {}) {
    auto registry = support::LocalRegistry::start(std::move(options));
    EXPECT_TRUE(registry) << registry.error().message;
    return registry ? std::move(*registry) : nullptr;
  }

  std::string writeArchive(const std::string& name, const std::string& data) {
    const auto path = dir_->path() / name;
    std::ofstream(path, std::ios::binary) << data;
    return path.string();
  }

  // Pushes the test image as an OCI archive to <registry>/<repo_and_tag>.
  void pushOci(support::LocalRegistry& registry, const std::string& repo_and_tag) {
    const std::string archive = writeArchive("image.oci.tar", support::ociArchive(image_, "1"));
    Status pushed = registry.push(archive, "oci-archive", repo_and_tag);
    ASSERT_TRUE(pushed) << pushed.error().message << "\nregistry log:\n" << registry.logTail();
  }

  // A client of <registry>/<repository> over plain HTTP.
  RegistryClient client(const support::LocalRegistry& registry, const std::string& repository,
                        Credentials credentials = {}) {
    auto reference = parseReference(registry.host() + "/" + repository);
    EXPECT_TRUE(reference) << reference.error().message;
    return RegistryClient(http_, reference.value_or(Reference{}),
                          RegistryClient::Options{.plain_http = true,
                                                  .credentials = std::move(credentials)});
  }

  // The layers (and config) of a manifest body.
  static std::vector<Blob> layersOf(const std::string& manifest) {
    std::vector<Blob> blobs;
    const auto json = nlohmann::json::parse(manifest, nullptr, false);
    if (!json.is_object() || !json.contains("layers")) {
      return blobs;
    }
    for (const auto& layer : json["layers"]) {
      blobs.push_back(Blob{layer.value("mediaType", ""), layer.value("digest", ""),
                           layer.value("size", std::uint64_t{0})});
    }
    return blobs;
  }
  static Blob configOf(const std::string& manifest) {
    const auto json = nlohmann::json::parse(manifest, nullptr, false);
    if (!json.is_object() || !json.contains("config")) {
      return {};
    }
    const auto& config = json["config"];
    return Blob{config.value("mediaType", ""), config.value("digest", ""),
                config.value("size", std::uint64_t{0})};
  }

  // fetchBlob into a string.
  static Result<std::string> fetchAll(RegistryClient& client, const Blob& blob) {
    std::string bytes;
    Status fetched = client.fetchBlob(blob, [&](std::string_view chunk) {
      bytes.append(chunk);
      return okStatus();
    });
    if (!fetched) {
      return fetched.error();
    }
    return bytes;
  }

  support::TestImage image_;
  std::optional<support::TempDir> dir_;
  std::shared_ptr<CurlHttpClient> http_;
};

TEST_F(RegistryClientIT, AnonymousPullOfAnOciPushStreamsEveryLayer) {
  auto registry = startRegistry();
  ASSERT_NE(registry, nullptr);
  ASSERT_NO_FATAL_FAILURE(pushOci(*registry, "test/two:1"));
  RegistryClient registry_client = client(*registry, "test/two");

  // skopeo pushes the one manifest of the archive's index as it is (no --all, one image).
  auto manifest = registry_client.fetchManifest("1");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->media_type, kOciManifest);
  EXPECT_EQ(manifest->digest, support::sha256Of(manifest->body));
  // The same manifest by digest.
  auto pinned = registry_client.fetchManifest(manifest->digest);
  ASSERT_TRUE(pinned) << pinned.error().message;
  EXPECT_EQ(pinned->body, manifest->body);

  // ociArchive() makes the first layer gzip-compressed and the second plain. skopeo pushes
  // the first as it is, but compresses the plain one for the registry (so the manifest is
  // skopeo's, not the archive's): both arrive as tar+gzip.
  const std::vector<Blob> layers = layersOf(manifest->body);
  ASSERT_EQ(layers.size(), image_.layers.size()) << manifest->body;
  EXPECT_EQ(layers[0].digest, support::sha256Of(support::gzip(image_.layers[0])));
  std::vector<std::string> fetched_digests;
  std::uint64_t fetched_bytes = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    EXPECT_EQ(layers[i].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    auto bytes = fetchAll(registry_client, layers[i]);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(bytes->size(), layers[i].size);
    EXPECT_EQ(support::sha256Of(*bytes), layers[i].digest);
    EXPECT_TRUE(gunzip(*bytes) == image_.layers[i]) << "the layer's tar differs from the image's";
    fetched_digests.push_back(layers[i].digest);
    fetched_bytes += layers[i].size;
  }
  const Blob config = configOf(manifest->body);
  auto config_json = registry_client.fetchSmallBlob(config);
  ASSERT_TRUE(config_json) << config_json.error().message;
  EXPECT_EQ(*config_json, image_.config);
  fetched_digests.push_back(config.digest);
  fetched_bytes += config.size;

  // The registry saw exactly these blob GETs, in this order, and sent every byte once.
  EXPECT_EQ(registry_client.blobRequests(), 3u);
  EXPECT_EQ(registry->awaitBlobGets("test/two", fetched_digests.size()), fetched_digests)
      << registry->logTail();
  EXPECT_EQ(registry->blobBytesSent("test/two"), fetched_bytes);
  EXPECT_TRUE(registry->blobGets("test/other").empty());
}

TEST_F(RegistryClientIT, DockerArchivePushServesADockerManifest) {
  auto registry = startRegistry();
  ASSERT_NE(registry, nullptr);
  const std::string archive =
      writeArchive("image.docker.tar", support::dockerArchive(image_, "test/docker:1"));
  Status pushed = registry->push(archive, "docker-archive", "test/docker:1");
  ASSERT_TRUE(pushed) << pushed.error().message;
  RegistryClient registry_client = client(*registry, "test/docker");

  auto manifest = registry_client.fetchManifest("1");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->media_type, kDockerManifest);
  // skopeo compresses the archive's plain layer tars for the registry: other digests, the
  // same tars once gunzipped.
  const std::vector<Blob> layers = layersOf(manifest->body);
  ASSERT_EQ(layers.size(), image_.layers.size()) << manifest->body;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    EXPECT_EQ(layers[i].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    auto bytes = fetchAll(registry_client, layers[i]);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(support::sha256Of(*bytes), layers[i].digest);
    EXPECT_TRUE(gunzip(*bytes) == image_.layers[i]) << "the layer's tar differs from the image's";
  }
  auto config_json = registry_client.fetchSmallBlob(configOf(manifest->body));
  ASSERT_TRUE(config_json) << config_json.error().message;
  EXPECT_EQ(support::sha256Of(*config_json), configOf(manifest->body).digest);
}

TEST_F(RegistryClientIT, UnknownTagRepositoryAndBlobAreNotFound) {
  auto registry = startRegistry();
  ASSERT_NE(registry, nullptr);
  ASSERT_NO_FATAL_FAILURE(pushOci(*registry, "test/two:1"));

  RegistryClient known = client(*registry, "test/two");
  auto tag = known.fetchManifest("no-such-tag");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().code, Code::kNotFound) << tag.error().message;
  EXPECT_NE(tag.error().message.find("manifest unknown"), std::string::npos)
      << tag.error().message;
  EXPECT_NE(tag.error().message.find(registry->host()), std::string::npos)
      << tag.error().message;
  EXPECT_NE(tag.error().message.find("test/two"), std::string::npos) << tag.error().message;
  EXPECT_NE(tag.error().message.find("no-such-tag"), std::string::npos) << tag.error().message;

  // distribution 2.8 answers MANIFEST_UNKNOWN for a repository it never saw, too.
  RegistryClient unknown = client(*registry, "test/absent");
  auto repository = unknown.fetchManifest("1");
  ASSERT_FALSE(repository);
  EXPECT_EQ(repository.error().code, Code::kNotFound) << repository.error().message;
  EXPECT_NE(repository.error().message.find("test/absent"), std::string::npos)
      << repository.error().message;

  const Blob missing{"application/vnd.oci.image.layer.v1.tar", support::sha256Of("no such blob"),
                     12};
  auto blob = fetchAll(known, missing);
  ASSERT_FALSE(blob);
  EXPECT_EQ(blob.error().code, Code::kNotFound) << blob.error().message;
  EXPECT_TRUE(registry->blobGets("test/two").empty()) << "a 404 is not a successful GET";
}

TEST_F(RegistryClientIT, BasicAuthNeedsTheRightCredentials) {
  support::LocalRegistry::Options options;
  options.basic_auth = true;
  options.password = "pw-of-the-contd-test-91c2";  // distinctive, to look for in messages
  auto registry = startRegistry(options);
  ASSERT_NE(registry, nullptr);
  ASSERT_NO_FATAL_FAILURE(pushOci(*registry, "test/two:1"));

  RegistryClient anonymous = client(*registry, "test/two");
  auto none = anonymous.fetchManifest("1");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kUnauthenticated) << none.error().message;
  EXPECT_NE(none.error().message.find("credentials needed"), std::string::npos)
      << none.error().message;

  const std::string wrong_password = "wrong-password-7f3a";
  RegistryClient wrong = client(*registry, "test/two", {options.user, wrong_password});
  auto refused = wrong.fetchManifest("1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kUnauthenticated) << refused.error().message;
  EXPECT_NE(refused.error().message.find("credentials refused"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find(wrong_password), std::string::npos)
      << refused.error().message;

  RegistryClient right = client(*registry, "test/two", {options.user, options.password});
  auto manifest = right.fetchManifest("1");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->media_type, kOciManifest);
  // The blob request goes out with what worked for the manifest.
  const std::vector<Blob> layers = layersOf(manifest->body);
  ASSERT_FALSE(layers.empty());
  auto bytes = fetchAll(right, layers.back());
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(support::sha256Of(*bytes), layers.back().digest);
  EXPECT_EQ(registry->logText().find(options.password), std::string::npos)
      << "the registry logged the password";
}

TEST_F(RegistryClientIT, StoppedRegistryIsUnavailableUntilRestarted) {
  auto registry = startRegistry();
  ASSERT_NE(registry, nullptr);
  ASSERT_NO_FATAL_FAILURE(pushOci(*registry, "test/two:1"));
  RegistryClient registry_client = client(*registry, "test/two");
  ASSERT_TRUE(registry_client.fetchManifest("1"));

  ASSERT_TRUE(registry->stop());
  auto down = registry_client.fetchManifest("1");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, Code::kUnavailable) << down.error().message;
  EXPECT_NE(down.error().message.find(registry->host()), std::string::npos)
      << down.error().message;

  // Same port and storage: the same client pulls again.
  Status restarted = registry->restart();
  ASSERT_TRUE(restarted) << restarted.error().message;
  auto again = registry_client.fetchManifest("1");
  ASSERT_TRUE(again) << again.error().message;
}

TEST_F(RegistryClientIT, BlobCorruptedInStorageFailsTheDigestCheck) {
  auto registry = startRegistry();
  ASSERT_NE(registry, nullptr);
  ASSERT_NO_FATAL_FAILURE(pushOci(*registry, "test/two:1"));
  RegistryClient registry_client = client(*registry, "test/two");
  auto manifest = registry_client.fetchManifest("1");
  ASSERT_TRUE(manifest) << manifest.error().message;
  const std::vector<Blob> layers = layersOf(manifest->body);
  ASSERT_FALSE(layers.empty());
  const Blob& layer = layers.front();  // the gzip one with busybox, the biggest

  // Flip one byte in the middle: same size, so only the digest check can notice.
  const std::string path = registry->blobPath(layer.digest);
  {
    std::fstream data(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(data) << "no blob file at " << path;
    const auto middle = static_cast<std::streamoff>(layer.size / 2);
    data.seekg(middle);
    char byte = 0;
    ASSERT_TRUE(data.get(byte));
    data.seekp(middle);
    data.put(static_cast<char>(byte ^ 0x5a));
    ASSERT_TRUE(data.flush());
  }

  auto bytes = fetchAll(registry_client, layer);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, Code::kFailedPrecondition) << bytes.error().message;
  EXPECT_NE(bytes.error().message.find("does not match"), std::string::npos)
      << bytes.error().message;
  // An intact blob of the same image still comes through.
  if (layers.size() > 1) {
    auto intact = fetchAll(registry_client, layers.back());
    EXPECT_TRUE(intact) << intact.error().message;
  }
}

}  // namespace
}  // namespace contd::registry
