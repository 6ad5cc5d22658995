// RegistryClient over a scripted HttpClient: the Basic and Bearer challenge flows, the
// token cache, and the credentials refused on the way. The fake HttpClient is in
// registry_client_fake.h.

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

// ---- Basic

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

}  // namespace
}  // namespace contd::registry
