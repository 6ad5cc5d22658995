// CurlHttpClient against a server on 127.0.0.1 (loopback_http_server.h): status and header
// parsing, redirects, sinks, kept bodies, connection reuse, and the errors of transfers that
// fail. Nothing leaves the machine: proxies from the environment are switched off.

#include "modules/registry/curl_http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/registry/loopback_http_server.h"

namespace contd::registry {
namespace {

using testing::Answer;
using testing::httpAnswer;
using testing::LoopbackHttpServer;
using testing::ServedRequest;

class CurlHttpClientTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    for (const char* name :
         {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
      ::unsetenv(name);
    }
  }

  void SetUp() override {
    auto created = CurlHttpClient::create({.connect_timeout = std::chrono::milliseconds(2000),
                                           .stall_timeout = std::chrono::milliseconds(1000),
                                           .user_agent = "contd-test"});
    ASSERT_TRUE(created.ok()) << created.error().message;
    client_ = *created;
  }

  Result<HttpResponse> get(const std::string& url, const BodySink* sink = nullptr,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    return client_->send(HttpRequest{"GET", url, std::move(headers)}, sink);
  }

  std::shared_ptr<CurlHttpClient> client_;
};

// A port on 127.0.0.1 that nothing listens on (bound, read, closed).
int unusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(CurlHttpClientTest, StatusHeadersAndBody) {
  LoopbackHttpServer server([](const ServedRequest&) {
    return Answer{
        httpAnswer(200, "hello", {{"Content-Type", "text/plain"}, {"X-Mixed-Case", "  spaced  "}})};
  });
  auto response = get(server.url("/v2/"), nullptr, {{"Accept", "a/b, c/d"}});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->headers.at("content-type"), "text/plain");
  EXPECT_EQ(response->headers.at("x-mixed-case"), "spaced");
  EXPECT_EQ(response->headers.at("content-length"), "5");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/v2/");
  EXPECT_EQ(requests[0].headers.at("accept"), "a/b, c/d");
  EXPECT_EQ(requests[0].headers.at("user-agent"), "contd-test");
  EXPECT_EQ(requests[0].headers.count("accept-encoding"), 0u);  // bodies arrive as stored
}

TEST_F(CurlHttpClientTest, SinkTakesTheBodyOfA2xxAnswer) {
  const std::string body(300'000, 'b');
  LoopbackHttpServer server([&](const ServedRequest&) { return Answer{httpAnswer(200, body)}; });
  std::string received;
  const BodySink sink = [&](std::string_view chunk) -> Status {
    received.append(chunk);
    return okStatus();
  };
  auto response = get(server.url("/blob"), &sink);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(received, body);
  EXPECT_TRUE(response->body.empty());
}

TEST_F(CurlHttpClientTest, OtherAnswersKeepTheirBodyAndSkipTheSink) {
  const std::string error = R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]})";
  LoopbackHttpServer server([&](const ServedRequest&) {
    return Answer{httpAnswer(404, error, {{"Content-Type", "application/json"}})};
  });
  bool sink_called = false;
  const BodySink sink = [&](std::string_view) -> Status {
    sink_called = true;
    return okStatus();
  };
  auto response = get(server.url("/blob"), &sink);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, error);
  EXPECT_FALSE(sink_called);
}

TEST_F(CurlHttpClientTest, KeepsAtMost4MiBOfABodyWithoutSink) {
  const std::string body((4 << 20) + 1000, 'z');
  LoopbackHttpServer server([&](const ServedRequest&) { return Answer{httpAnswer(200, body)}; });
  auto response = get(server.url("/big"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body.size(), std::size_t{4 << 20});
}

TEST_F(CurlHttpClientTest, FollowsRedirectsAndReportsTheLastAnswer) {
  LoopbackHttpServer server([](const ServedRequest& request) {
    if (request.target == "/a") {
      return Answer{httpAnswer(302, "moved", {{"Location", "/b"}, {"X-First", "1"}})};
    }
    return Answer{httpAnswer(200, "B", {{"X-Final", "yes"}})};
  });
  auto response = get(server.url("/a"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "B");
  EXPECT_EQ(response->headers.at("x-final"), "yes");
  EXPECT_EQ(response->headers.count("x-first"), 0u);
  EXPECT_EQ(response->headers.count("location"), 0u);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].target, "/b");
}

TEST_F(CurlHttpClientTest, AuthorizationIsNotSentToAnotherHost) {
  LoopbackHttpServer storage([](const ServedRequest&) { return Answer{httpAnswer(200, "blob")}; });
  LoopbackHttpServer registry([&](const ServedRequest&) {
    return Answer{httpAnswer(307, "", {{"Location", storage.url("/signed?sig=1")}})};
  });
  auto response = get(registry.url("/v2/r/blobs/x"), nullptr, {{"Authorization", "Bearer tok"}});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "blob");
  EXPECT_EQ(registry.requests().at(0).headers.at("authorization"), "Bearer tok");
  EXPECT_EQ(storage.requests().at(0).headers.count("authorization"), 0u);
  EXPECT_EQ(storage.requests().at(0).target, "/signed?sig=1");
}

TEST_F(CurlHttpClientTest, TooManyRedirectsIsUnavailable) {
  LoopbackHttpServer server([](const ServedRequest&) {
    return Answer{httpAnswer(302, "", {{"Location", "/loop"}})};
  });
  auto response = get(server.url("/loop"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Code::kUnavailable);
  EXPECT_EQ(server.requests().size(), 6u);  // the first and 5 redirects
}

TEST_F(CurlHttpClientTest, HeadHasNoBody) {
  LoopbackHttpServer server([](const ServedRequest& request) {
    std::string answer = httpAnswer(200, "", {{"Docker-Content-Digest", "sha256:x"}});
    if (request.method == "HEAD") {  // a HEAD answer names the length it does not send
      answer.replace(answer.find("Content-Length: 0"), 17, "Content-Length: 9");
    }
    return Answer{answer};
  });
  auto response = client_->send(HttpRequest{"HEAD", server.url("/m"), {}}, nullptr);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers.at("docker-content-digest"), "sha256:x");
  EXPECT_EQ(response->body, "");
  EXPECT_EQ(server.requests().at(0).method, "HEAD");
}

TEST_F(CurlHttpClientTest, SinkErrorAbortsAndIsReturned) {
  LoopbackHttpServer server(
      [](const ServedRequest&) { return Answer{httpAnswer(200, std::string(1 << 20, 'q'))}; });
  int calls = 0;
  const BodySink sink = [&](std::string_view) -> Status {
    ++calls;
    return failedPrecondition("blob sha256:x: more than 10 bytes");
  };
  auto response = get(server.url("/blob"), &sink);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(response.error().message, "blob sha256:x: more than 10 bytes");
  EXPECT_EQ(calls, 1);
}

TEST_F(CurlHttpClientTest, ReusesTheConnection) {
  LoopbackHttpServer server([](const ServedRequest&) { return Answer{httpAnswer(200, "x")}; });
  for (int i = 0; i < 3; ++i) {
    auto response = get(server.url("/again"));
    ASSERT_TRUE(response.ok()) << response.error().message;
  }
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.connectionsAccepted(), 1);
}

TEST_F(CurlHttpClientTest, ConcurrentSends) {
  LoopbackHttpServer server(
      [](const ServedRequest& request) { return Answer{httpAnswer(200, request.target)}; });
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        std::string received;
        const BodySink sink = [&](std::string_view chunk) -> Status {
          received.append(chunk);
          return okStatus();
        };
        auto response = get(server.url(path), &sink);
        if (response.ok() && response->status == 200 && received == path) {
          ++good;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(good, 120);
  EXPECT_LE(server.connectionsAccepted(), 8);  // the handle pool's bound, not one per request
}

TEST_F(CurlHttpClientTest, UnusedPortIsUnavailableAndTheQueryIsNotShown) {
  const std::string url =
      "http://127.0.0.1:" + std::to_string(unusedPort()) + "/token?account=u&secret=tok-1";
  auto response = get(url);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Code::kUnavailable);
  EXPECT_EQ(response.error().message.rfind(
                "GET http://127.0.0.1:" + url.substr(17, url.find('/', 17) - 17) + "/token: ", 0),
            0u)
      << response.error().message;
  EXPECT_EQ(response.error().message.find("secret"), std::string::npos);
  EXPECT_EQ(response.error().message.find("tok-1"), std::string::npos);
}

TEST_F(CurlHttpClientTest, FailedRedirectNamesTheTargetWithoutItsQuery) {
  const std::string target =
      "http://127.0.0.1:" + std::to_string(unusedPort()) + "/signed?X-Amz-Signature=abc";
  LoopbackHttpServer server([&](const ServedRequest&) {
    return Answer{httpAnswer(307, "", {{"Location", target}})};
  });
  auto response = get(server.url("/v2/r/blobs/x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Code::kUnavailable);
  const std::string& message = response.error().message;
  EXPECT_NE(message.find("(redirected to " + target.substr(0, target.find('?')) + ")"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("Signature"), std::string::npos) << message;
}

TEST_F(CurlHttpClientTest, ConnectionClosedWithoutAnswerIsUnavailable) {
  LoopbackHttpServer server([](const ServedRequest&) { return Answer{}; });
  auto response = get(server.url("/x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Code::kUnavailable);
}

TEST_F(CurlHttpClientTest, TruncatedBodyIsUnavailable) {
  LoopbackHttpServer server([](const ServedRequest&) {
    std::string answer = httpAnswer(200, std::string(100, 'a'));
    answer.resize(answer.size() - 50);
    return Answer{.bytes = answer, .close = true};
  });
  const BodySink sink = [](std::string_view) { return okStatus(); };
  auto response = get(server.url("/x"), &sink);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Code::kUnavailable);
}

TEST_F(CurlHttpClientTest, StalledTransferIsDeadlineExceeded) {
  LoopbackHttpServer server([](const ServedRequest&) {
    std::string answer = httpAnswer(200, std::string(100'000, 'a'));
    answer.resize(answer.size() - 99'990);
    return Answer{.bytes = answer, .hang = true};
  });
  const BodySink sink = [](std::string_view) { return okStatus(); };
  auto response = get(server.url("/slow"), &sink);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Code::kDeadlineExceeded) << response.error().message;
}

TEST_F(CurlHttpClientTest, OnlyHttpAndHttps) {
  for (const char* url : {"file:///etc/hostname", "ftp://127.0.0.1/x"}) {
    auto response = get(url);
    ASSERT_FALSE(response.ok()) << url;
    EXPECT_EQ(response.error().code, Code::kInvalidArgument) << url;
  }
  auto post = client_->send(HttpRequest{"POST", "http://127.0.0.1:1/", {}}, nullptr);
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().code, Code::kInvalidArgument);
}

// A TLS handshake answered in plain HTTP (OpenSSL: "wrong version number") says what to do.
TEST(PlainHttpAnswer, NamesTheRegistryAndTheOption) {
  auto hint = plainHttpAnswer(
      true, "error:0A00010B:SSL routines::wrong version number",
      "https://user@127.0.0.1:5000/v2/test/two/manifests/1");
  ASSERT_TRUE(hint);
  EXPECT_EQ(hint->code, Code::kFailedPrecondition);
  EXPECT_EQ(hint->message,
            "registry '127.0.0.1:5000' answered in plain HTTP; pull with --plain-http (contctl) "
            "/ plain_http (API) if it is meant to (TLS: error:0A00010B:SSL routines::wrong "
            "version number)");
  EXPECT_FALSE(plainHttpAnswer(true, "certificate verify failed", "https://h/v2/"));
  EXPECT_FALSE(plainHttpAnswer(false, "wrong version number", "https://h/v2/"));
}

}  // namespace
}  // namespace contd::registry
