// RegistryClient over a scripted HttpClient: manifests, blobs streamed and verified, the
// Basic and Bearer challenge flows with the token cache, and the errors a registry causes.

#include "modules/registry/registry_client.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "modules/common/digest.h"

namespace contd::registry {
namespace {

// An HttpClient that answers with a handler and records what was sent. Like the real one,
// it hands the body of a 2xx answer to the sink (in chunks of at most 7 bytes).
class FakeHttpClient final : public HttpClient {
public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit FakeHttpClient(Handler handler) : handler_(std::move(handler)) {}

  Result<HttpResponse> send(const HttpRequest& request, const BodySink* sink) override {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    HttpResponse response = handler_(request);
    if (response.status >= 200 && response.status < 300 && sink != nullptr) {
      const std::string body = std::move(response.body);
      response.body.clear();
      for (std::size_t i = 0; i < body.size(); i += 7) {
        CONTD_RETURN_IF_ERROR((*sink)(std::string_view(body).substr(i, 7)));
      }
    }
    return response;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

private:
  Handler handler_;
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
};

constexpr char kPassword[] = "s3cret-pa55";
const std::string kBase = "http://127.0.0.1:5000/v2/test/two";

std::string sha256(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.digest();
}

std::string header(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

HttpResponse answer(long status, std::string body = {},
                    std::map<std::string, std::string> headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

HttpResponse registryError(long status, const std::string& code, const std::string& message) {
  return answer(
      status,
      R"({"errors":[{"code":")" + code + R"(","message":")" + message + R"(","detail":null}]})",
      {{"content-type", "application/json"}});
}

const std::string kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("config":{},"layers":[]})";

struct Harness {
  explicit Harness(FakeHttpClient::Handler handler, Credentials credentials = {})
      : http(std::make_shared<FakeHttpClient>(std::move(handler))),
        client(http, *parseReference("127.0.0.1:5000/test/two:1"),
               RegistryClient::Options{.plain_http = true,
                                       .credentials = std::move(credentials),
                                       .now = [this] { return now; }}) {}

  std::shared_ptr<FakeHttpClient> http;
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  RegistryClient client;
};

void expectNoSecret(const Error& error) {
  EXPECT_EQ(error.message.find(kPassword), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find("czNjcmV0"), std::string::npos) << error.message;  // base64
  EXPECT_EQ(error.message.find("tok-"), std::string::npos) << error.message;
}

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

// ---- Basic

HttpResponse basicChallenge() {
  return answer(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                {{"www-authenticate", R"(Basic realm="Registry Realm")"}});
}

// Answers 200 only to "Basic base64(user:s3cret-pa55)".
FakeHttpClient::Handler basicRegistry() {
  return [](const HttpRequest& request) {
    if (header(request, "Authorization") != "Basic dXNlcjpzM2NyZXQtcGE1NQ==") {
      return basicChallenge();
    }
    return answer(200, kManifest);
  };
}

TEST(RegistryClient, BasicChallengeWithCredentials) {
  Harness h(basicRegistry(), {"user", kPassword});
  auto first = h.client.fetchManifest("1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = h.client.fetchManifest("1");
  ASSERT_TRUE(second.ok()) << second.error().message;

  const auto requests = h.http->requests();
  ASSERT_EQ(requests.size(), 3u);  // challenged once, then the credentials go along at once
  EXPECT_EQ(header(requests[0], "Authorization"), "");
  EXPECT_EQ(header(requests[1], "Authorization"), "Basic dXNlcjpzM2NyZXQtcGE1NQ==");
  EXPECT_EQ(header(requests[2], "Authorization"), "Basic dXNlcjpzM2NyZXQtcGE1NQ==");
}

TEST(RegistryClient, BasicChallengeWithoutCredentialsNeedsThem) {
  Harness h(basicRegistry());
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kUnauthenticated);
  EXPECT_NE(manifest.error().message.find("credentials needed"), std::string::npos)
      << manifest.error().message;
  EXPECT_EQ(manifest.error().message.rfind("registry 127.0.0.1:5000: test/two", 0), 0u);
  EXPECT_EQ(h.http->requests().size(), 1u);
}

TEST(RegistryClient, BasicChallengeWithWrongCredentialsRefusesThem) {
  Harness h(basicRegistry(), {"user", "wrong-" + std::string(kPassword)});
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kUnauthenticated);
  EXPECT_NE(manifest.error().message.find("credentials refused"), std::string::npos)
      << manifest.error().message;
  expectNoSecret(manifest.error());
  EXPECT_EQ(h.http->requests().size(), 2u);  // one retry, no more
}

TEST(RegistryClient, ForbiddenIsUnauthenticated) {
  Harness h(
      [](const HttpRequest&) {
        return registryError(403, "DENIED", "requested access to the resource is denied");
      },
      {"user", kPassword});
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kUnauthenticated);
  EXPECT_EQ(manifest.error().message,
            "registry 127.0.0.1:5000: test/two:1: credentials refused (HTTP 403: requested "
            "access to the resource is denied)");
}

TEST(RegistryClient, UnauthorizedWithoutAUsableChallenge) {
  Harness h([](const HttpRequest&) {
    return answer(401, "", {{"www-authenticate", R"(Negotiate)"}});
  });
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kUnauthenticated);
  EXPECT_NE(manifest.error().message.find("credentials needed"), std::string::npos);
}

// ---- Bearer

// A registry at 127.0.0.1:5000 with its token service at auth.example; tokens are
// "tok-<n>" and live `expires_in` seconds (as far as the token service says).
struct BearerRegistry {
  std::string expected_basic;  // the Authorization the token service wants; empty: anyone
  std::string expires_in = "300";
  int tokens_issued = 0;
  std::mutex mutex;

  FakeHttpClient::Handler handler() {
    return [this](const HttpRequest& request) {
      std::lock_guard lock(mutex);
      const std::string authorization = header(request, "Authorization");
      if (request.url.rfind("https://auth.example/token?", 0) == 0) {
        if (!expected_basic.empty() && authorization != expected_basic) {
          return answer(401, R"({"details":"incorrect username or password"})");
        }
        ++tokens_issued;
        std::string body = R"({"token":"tok-)" + std::to_string(tokens_issued) + R"(")";
        if (!expires_in.empty()) {
          body += R"(,"expires_in":)" + expires_in;
        }
        return answer(200, body + "}");
      }
      if (authorization != "Bearer tok-" + std::to_string(tokens_issued) || tokens_issued == 0) {
        return answer(401, "",
                      {{"www-authenticate",
                        R"(Bearer realm="https://auth.example/token",service="registry.example",)"
                        R"(scope="repository:test/two:pull")"}});
      }
      return answer(200, kManifest);
    };
  }
};

TEST(RegistryClient, BearerFlowAsksForAPullTokenAndReusesIt) {
  BearerRegistry registry;
  Harness h(registry.handler());
  ASSERT_TRUE(h.client.fetchManifest("1").ok());
  ASSERT_TRUE(h.client.fetchManifest("1").ok());

  const auto requests = h.http->requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].url, kBase + "/manifests/1");
  EXPECT_EQ(
      requests[1].url,
      "https://auth.example/token?service=registry.example&scope=repository%3Atest%2Ftwo%3Apull");
  EXPECT_EQ(header(requests[1], "Authorization"), "");  // anonymous token
  EXPECT_EQ(header(requests[2], "Authorization"), "Bearer tok-1");
  EXPECT_EQ(header(requests[3], "Authorization"), "Bearer tok-1");  // cached
  EXPECT_EQ(registry.tokens_issued, 1);
}

TEST(RegistryClient, BearerTokenIsFetchedAgainAfterItExpires) {
  BearerRegistry registry;
  registry.expires_in = "30";
  Harness h(registry.handler());
  ASSERT_TRUE(h.client.fetchManifest("1").ok());
  h.now += std::chrono::seconds(29);
  ASSERT_TRUE(h.client.fetchManifest("1").ok());
  EXPECT_EQ(registry.tokens_issued, 1);
  EXPECT_EQ(h.http->requests().size(), 4u);

  h.now += std::chrono::seconds(2);
  ASSERT_TRUE(h.client.fetchManifest("1").ok());
  EXPECT_EQ(registry.tokens_issued, 2);
  const auto requests = h.http->requests();
  ASSERT_EQ(requests.size(), 7u);
  EXPECT_EQ(header(requests[4], "Authorization"), "");  // the expired token is not sent
  EXPECT_EQ(header(requests[6], "Authorization"), "Bearer tok-2");
}

TEST(RegistryClient, BearerTokenWithoutExpiresInLivesSixtySeconds) {
  BearerRegistry registry;
  registry.expires_in = "";
  Harness h(registry.handler());
  ASSERT_TRUE(h.client.fetchManifest("1").ok());
  h.now += std::chrono::seconds(59);
  ASSERT_TRUE(h.client.fetchManifest("1").ok());
  EXPECT_EQ(registry.tokens_issued, 1);
  h.now += std::chrono::seconds(1);
  ASSERT_TRUE(h.client.fetchManifest("1").ok());
  EXPECT_EQ(registry.tokens_issued, 2);
}

TEST(RegistryClient, BearerWithCredentialsSendsThemToTheTokenService) {
  BearerRegistry registry;
  registry.expected_basic = "Basic dXNlcjpzM2NyZXQtcGE1NQ==";
  Harness h(registry.handler(), {"user", kPassword});
  auto manifest = h.client.fetchManifest("1");
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ(header(h.http->requests().at(1), "Authorization"), registry.expected_basic);
}

TEST(RegistryClient, TokenServiceRefusingCredentials) {
  BearerRegistry registry;
  registry.expected_basic = "Basic dXNlcjpzM2NyZXQtcGE1NQ==";
  Harness h(registry.handler(), {"user", "not-" + std::string(kPassword)});
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kUnauthenticated);
  EXPECT_NE(manifest.error().message.find("credentials refused"), std::string::npos)
      << manifest.error().message;
  expectNoSecret(manifest.error());

  Harness anonymous(registry.handler());
  auto needed = anonymous.client.fetchManifest("1");
  ASSERT_FALSE(needed.ok());
  EXPECT_EQ(needed.error().code, Code::kUnauthenticated);
  EXPECT_NE(needed.error().message.find("credentials needed"), std::string::npos)
      << needed.error().message;
}

TEST(RegistryClient, TokenRefusedByTheRegistryIsRefusedCredentials) {
  Harness h(
      [](const HttpRequest& request) {
        if (request.url.rfind("https://auth.example/", 0) == 0) {
          return answer(200, R"({"access_token":"tok-useless"})");
        }
        return answer(401, "", {{"www-authenticate", R"(Bearer realm="https://auth.example/t")"}});
      },
      {"user", kPassword});
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kUnauthenticated);
  EXPECT_NE(manifest.error().message.find("credentials refused"), std::string::npos);
  expectNoSecret(manifest.error());
  const auto requests = h.http->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].url, "https://auth.example/t?scope=repository%3Atest%2Ftwo%3Apull");
  EXPECT_EQ(header(requests[2], "Authorization"), "Bearer tok-useless");
}

TEST(RegistryClient, BrokenTokenAnswers) {
  for (const std::string body : {"not json", R"({"expires_in":10})", R"({"token":7})"}) {
    Harness h([&](const HttpRequest& request) {
      if (request.url.rfind("https://auth.example/", 0) == 0) {
        return answer(200, body);
      }
      return answer(401, "", {{"www-authenticate", R"(Bearer realm="https://auth.example/t")"}});
    });
    auto manifest = h.client.fetchManifest("1");
    ASSERT_FALSE(manifest.ok()) << body;
    EXPECT_EQ(manifest.error().code, Code::kUnavailable) << body;
  }
}

TEST(RegistryClient, BearerChallengeWithoutRealm) {
  Harness h([](const HttpRequest&) {
    return answer(401, "", {{"www-authenticate", R"(Bearer service="x")"}});
  });
  auto manifest = h.client.fetchManifest("1");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code, Code::kUnavailable);
  EXPECT_NE(manifest.error().message.find("realm"), std::string::npos);
}

// ---- blobs

const std::string kLayer = "layer bytes, more than one chunk of them";

Blob layerBlob() {
  return Blob{"application/vnd.oci.image.layer.v1.tar", sha256(kLayer), kLayer.size()};
}

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
