// RegistryClient over a scripted HttpClient: manifests, blobs streamed and verified, and the
// errors a registry causes. The Basic and Bearer challenge flows with the token cache are in
// registry_client_auth_test.cc; the fake HttpClient is in registry_client_fake.h.

#include "modules/registry/registry_client.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/registry/registry_client_fake.h"

namespace contd::registry {
namespace {

// ---- manifests

TEST(RegistryClient, FetchesAManifestAnonymouslyAskingForEveryKnownType) {
  Harness h([](const HttpRequest&) { return answer(200, kManifest); });
  auto manifest = h.client.fetchManifest("1");
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ(manifest->media_type, kOciManifest);
  EXPECT_EQ(manifest->digest, sha256(kManifest));
  EXPECT_EQ(manifest->body, kManifest);

  const auto requests = h.http->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].url, kBase + "/manifests/1");
  EXPECT_EQ(header(requests[0], "Accept"),
            "application/vnd.oci.image.index.v1+json, "
            "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.list.v2+json, "
            "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(header(requests[0], "Authorization"), "");
  EXPECT_EQ(h.client.blobRequests(), 0u);
}

TEST(RegistryClient, UsesHttpsAndDockerHubsEndpointByDefault) {
  auto http =
      std::make_shared<FakeHttpClient>([](const HttpRequest&) { return answer(200, kManifest); });
  RegistryClient client(http, *parseReference("busybox"), {});
  ASSERT_TRUE(client.fetchManifest("latest").ok());
  EXPECT_EQ(http->requests().at(0).url,
            "https://registry-1.docker.io/v2/library/busybox/manifests/latest");
}

TEST(RegistryClient, MediaTypeFromContentTypeWhenTheBodyHasNone) {
  const std::string body = R"({"schemaVersion":2,"manifests":[]})";
  Harness h([&](const HttpRequest&) {
    return answer(200, body,
                  {{"content-type",
                    "application/vnd.docker.distribution.manifest.list.v2+json; "
                    "charset=utf-8"}});
  });
  auto manifest = h.client.fetchManifest("1");
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ(manifest->media_type, kDockerManifestList);
}

TEST(RegistryClient, RefusesSchema1AndUnknownMediaTypes) {
  for (const std::string type :
       {"application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json", "application/json"}) {
    Harness h([&](const HttpRequest&) {
      return answer(200, R"({"schemaVersion":1})", {{"content-type", type}});
    });
    auto manifest = h.client.fetchManifest("1");
    ASSERT_FALSE(manifest.ok()) << type;
    EXPECT_EQ(manifest.error().code, Code::kInvalidArgument);
    EXPECT_NE(manifest.error().message.find(type), std::string::npos) << manifest.error().message;
  }
}

TEST(RegistryClient, RefusesAManifestThatIsNotJson) {
  Harness h([](const HttpRequest&) {
    return answer(200, "<html>", {{"content-type", std::string(kOciManifest)}});
  });
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kInvalidArgument);
}

TEST(RegistryClient, RefusesAManifestLargerThan4MiB) {
  Harness h([](const HttpRequest&) { return answer(200, std::string((4 << 20) + 1, ' ')); });
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kInvalidArgument);
  EXPECT_EQ(manifest.error().message,
            "registry 127.0.0.1:5000: test/two:1: manifest larger than 4 MiB");
}

TEST(RegistryClient, PinnedDigestMustMatchTheBody) {
  Harness h([](const HttpRequest&) { return answer(200, kManifest); });
  const std::string right = sha256(kManifest);
  auto ok = h.client.fetchManifest(right);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(h.http->requests().at(0).url, kBase + "/manifests/" + right);

  const std::string wrong = "sha256:" + std::string(64, '0');
  auto mismatch = h.client.fetchManifest(wrong);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(mismatch.error().message, "registry 127.0.0.1:5000: test/two@" + wrong +
                                          ": content does not match its digest (got " + right +
                                          ")");
}

TEST(RegistryClient, RefusesAReferenceThatIsNeitherTagNorDigest) {
  Harness h([](const HttpRequest&) { return answer(200, kManifest); });
  for (const char* reference : {"", "../x", "a?b=c", "sha256:xyz/"}) {
    auto manifest = h.client.fetchManifest(reference);
    ASSERT_FALSE(manifest.ok()) << reference;
    EXPECT_EQ(manifest.error().code, Code::kInvalidArgument);
  }
  EXPECT_TRUE(h.http->requests().empty());
}

TEST(RegistryClient, NotFoundCarriesTheRegistrysMessage) {
  Harness h([](const HttpRequest&) {
    return registryError(404, "MANIFEST_UNKNOWN", "manifest unknown");
  });
  auto manifest = h.client.fetchManifest("nope");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kNotFound);
  EXPECT_EQ(manifest.error().message, "registry 127.0.0.1:5000: test/two:nope: manifest unknown");
}

TEST(RegistryClient, NotFoundWithoutABody) {
  Harness h([](const HttpRequest&) { return answer(404); });
  auto manifest = h.client.fetchManifest("nope");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kNotFound);
  EXPECT_EQ(manifest.error().message, "registry 127.0.0.1:5000: test/two:nope: not found");
}

TEST(RegistryClient, ServerTroubleIsUnavailable) {
  for (const long status : {500L, 502L, 503L, 429L}) {
    Harness h(
        [&](const HttpRequest&) { return registryError(status, "UNAVAILABLE", "try later"); });
    auto manifest = h.client.fetchManifest("1");
    ASSERT_FALSE(manifest.ok()) << status;
    EXPECT_EQ(manifest.error().code, Code::kUnavailable) << status;
    EXPECT_EQ(manifest.error().message, "registry 127.0.0.1:5000: test/two:1: HTTP " +
                                            std::to_string(status) + ": try later");
  }
}

TEST(RegistryClient, TransportErrorsKeepTheirCodeAndNameTheImage) {
  class Broken final : public HttpClient {
  public:
    Result<HttpResponse> send(const HttpRequest&, const BodySink*) override {
      return unavailable("GET http://127.0.0.1:5000/v2/test/two/manifests/1: Couldn't connect");
    }
  };
  RegistryClient client(std::make_shared<Broken>(), *parseReference("127.0.0.1:5000/test/two"),
                        {.plain_http = true});
  auto manifest = client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kUnavailable);
  EXPECT_EQ(manifest.error().message.rfind("registry 127.0.0.1:5000: test/two:1: GET http://", 0),
            0u)
      << manifest.error().message;
}

// ---- blobs

TEST(RegistryClient, StreamsABlobIntoTheSinkAndChecksIt) {
  Harness h([](const HttpRequest&) { return answer(200, kLayer); });
  std::string received;
  int chunks = 0;
  const Status status = h.client.fetchBlob(layerBlob(), [&](std::string_view chunk) -> Status {
    received.append(chunk);
    ++chunks;
    return okStatus();
  });
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(received, kLayer);
  EXPECT_GT(chunks, 1);
  EXPECT_EQ(h.http->requests().at(0).url, kBase + "/blobs/" + sha256(kLayer));
  EXPECT_EQ(h.client.blobRequests(), 1u);
}

TEST(RegistryClient, BlobWhoseContentDoesNotMatchItsDigest) {
  const std::string other(kLayer.size(), 'x');
  Harness h([&](const HttpRequest&) { return answer(200, other); });
  const Status status =
      h.client.fetchBlob(layerBlob(), [](std::string_view) { return okStatus(); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(status.error().message, "registry 127.0.0.1:5000: test/two blob " + sha256(kLayer) +
                                        ": content does not match its digest (got " +
                                        sha256(other) + ", " + std::to_string(other.size()) +
                                        " bytes)");
}

TEST(RegistryClient, ShortBlobDoesNotMatch) {
  Harness h([](const HttpRequest&) { return answer(200, kLayer.substr(0, 10)); });
  const Status status =
      h.client.fetchBlob(layerBlob(), [](std::string_view) { return okStatus(); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Code::kFailedPrecondition);
  EXPECT_NE(status.error().message.find(", 10 bytes)"), std::string::npos)
      << status.error().message;
}

TEST(RegistryClient, OversizeBlobIsAbortedBeforeTheSinkSeesTooMuch) {
  Harness h([](const HttpRequest&) { return answer(200, kLayer + std::string(100, 'y')); });
  std::size_t received = 0;
  const Status status = h.client.fetchBlob(layerBlob(), [&](std::string_view chunk) -> Status {
    received += chunk.size();
    return okStatus();
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Code::kFailedPrecondition);
  EXPECT_NE(status.error().message.find("more than " + std::to_string(kLayer.size()) + " bytes"),
            std::string::npos)
      << status.error().message;
  EXPECT_LE(received, kLayer.size());
}

TEST(RegistryClient, SinkErrorIsReturnedAsItIs) {
  Harness h([](const HttpRequest&) { return answer(200, kLayer); });
  const Status status = h.client.fetchBlob(layerBlob(), [](std::string_view) -> Status {
    return internalError("write 'x': No space left on device");
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Code::kInternal);
  EXPECT_EQ(status.error().message, "write 'x': No space left on device");
}

TEST(RegistryClient, BlobUnknown) {
  Harness h([](const HttpRequest&) {
    return registryError(404, "BLOB_UNKNOWN", "blob unknown to registry");
  });
  const Status status =
      h.client.fetchBlob(layerBlob(), [](std::string_view) { return okStatus(); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Code::kNotFound);
  EXPECT_EQ(status.error().message, "registry 127.0.0.1:5000: test/two blob " + sha256(kLayer) +
                                        ": blob unknown to registry");
}

TEST(RegistryClient, BlobRequestsCountRetriesAfterAChallenge) {
  Harness h(
      [](const HttpRequest& request) {
        if (header(request, "Authorization").empty()) {
          return basicChallenge();
        }
        return answer(200, kLayer);
      },
      {"user", kPassword});
  ASSERT_TRUE(h.client.fetchSmallBlob(layerBlob()).ok());
  EXPECT_EQ(h.client.blobRequests(), 2u);
  auto again = h.client.fetchSmallBlob(layerBlob());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, kLayer);
  EXPECT_EQ(h.client.blobRequests(), 3u);
}

TEST(RegistryClient, ConcurrentFetchesShareTheAuthorization) {
  Harness h(
      [](const HttpRequest& request) {
        if (header(request, "Authorization") != "Basic dXNlcjpzM2NyZXQtcGE1NQ==") {
          return basicChallenge();
        }
        return answer(200, kLayer);
      },
      {"user", kPassword});
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto blob = h.client.fetchSmallBlob(layerBlob());
        if (blob.ok() && *blob == kLayer) {
          ++good;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(good, 40);
  // Each fetch is one request, plus one retry for those that went out before the
  // credentials were known.
  EXPECT_GE(h.client.blobRequests(), 41u);
  EXPECT_LE(h.client.blobRequests(), 44u);
}

TEST(RegistryClient, SmallBlobRefusesMoreThan4MiB) {
  Harness h([](const HttpRequest&) { return answer(200, kLayer); });
  Blob big = layerBlob();
  big.size = (4 << 20) + 1;
  auto blob = h.client.fetchSmallBlob(big);
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(h.http->requests().empty());
}

TEST(RegistryClient, RefusesABlobDigestThatIsNotSha256) {
  Harness h([](const HttpRequest&) { return answer(200, kLayer); });
  Blob bad = layerBlob();
  bad.digest = "sha256:../../etc";
  const Status status = h.client.fetchBlob(bad, [](std::string_view) { return okStatus(); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(h.http->requests().empty());
}

TEST(RegistryClient, PasswordsNeverAppearInErrors) {
  const std::vector<FakeHttpClient::Handler> handlers = {
      basicRegistry(),
      [](const HttpRequest&) {
        return answer(401, "", {{"www-authenticate", "Bearer realm=\"https://auth.example/t\""}});
      },
      [](const HttpRequest&) { return registryError(403, "DENIED", "denied"); },
      [](const HttpRequest&) { return answer(500); },
  };
  for (const auto& handler : handlers) {
    Harness h(handler, {"user", std::string("x") + kPassword});
    auto manifest = h.client.fetchManifest("1");
    ASSERT_FALSE(manifest.ok());
    expectNoSecret(manifest.error());
    const Status blob =
        h.client.fetchBlob(layerBlob(), [](std::string_view) { return okStatus(); });
    ASSERT_FALSE(blob.ok());
    expectNoSecret(blob.error());
  }
}

}  // namespace
}  // namespace contd::registry
