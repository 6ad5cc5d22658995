// The /metrics listener: address parsing (loopback only), responses, and a real listener on
// a loopback port fed garbage, oversized and slow requests.

#include "modules/metrics/http_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "modules/common/unique_fd.h"

namespace contd::metrics {
namespace {

TEST(ParseListenAddress, LoopbackAndUnixAccepted) {
  auto v4 = parseListenAddress("127.0.0.1:9101");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9101);
  auto other = parseListenAddress("127.0.0.2:80");
  ASSERT_TRUE(other) << other.error().message;
  auto v6 = parseListenAddress("[::1]:9101");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  auto unix_socket = parseListenAddress("unix:/run/contd/metrics.sock");
  ASSERT_TRUE(unix_socket) << unix_socket.error().message;
  EXPECT_TRUE(unix_socket->unix_socket);
  EXPECT_EQ(unix_socket->path, "/run/contd/metrics.sock");
}

TEST(ParseListenAddress, NonLoopbackAndGarbageRefused) {
  for (const char* bad : {"0.0.0.0:9101", "192.168.1.10:9101", "[::]:9101", ":9101",
                          "localhost:9101", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:9x", "unix:", "unix:relative.sock", "junk"}) {
    auto parsed = parseListenAddress(bad);
    EXPECT_FALSE(parsed) << bad;
  }
  auto any = parseListenAddress("0.0.0.0:9101");
  ASSERT_FALSE(any);
  EXPECT_NE(any.error().message.find("loopback"), std::string::npos) << any.error().message;
}

std::string body() { return "m 1\n"; }

TEST(HttpResponse, AnswersOnlyGetMetrics) {
  const auto ok = httpResponse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", true, body);
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(ok.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_TRUE(ok.ends_with("\r\n\r\nm 1\n"));
  EXPECT_TRUE(httpResponse("GET /metrics?x=1 HTTP/1.0\r\n\r\n", true, body).starts_with(
      "HTTP/1.1 200"));
  const auto head = httpResponse("HEAD /metrics HTTP/1.1\r\n\r\n", true, body);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n")) << head;
  EXPECT_TRUE(httpResponse("GET / HTTP/1.1\r\n\r\n", true, body).starts_with("HTTP/1.1 404"));
  EXPECT_TRUE(
      httpResponse("POST /metrics HTTP/1.1\r\n\r\n", true, body).starts_with("HTTP/1.1 405"));
  EXPECT_TRUE(httpResponse("\x01\x02\r\n\r\n", true, body).starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(httpResponse("GET /metrics\r\n\r\n", true, body).starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(httpResponse("GET /metrics HTTP/1.1", false, body).starts_with("HTTP/1.1 431"));
}

UniqueFd connectTo(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// Sends `request` (may be empty), then reads until the server closes (5 s at most).
std::string roundTrip(std::uint16_t port, const std::string& request) {
  auto fd = connectTo(port);
  if (!request.empty()) {
    ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  }
  std::string reply;
  char buffer[4096];
  pollfd p{fd.get(), POLLIN, 0};
  while (::poll(&p, 1, 8000) > 0) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n <= 0) {
      break;
    }
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  return reply;
}

TEST(HttpListener, ServesMetricsAndSurvivesHostileClients) {
  std::atomic<int> calls{0};
  auto listener = HttpListener::start(*parseListenAddress("127.0.0.1:0"), [&] {
    ++calls;
    return std::string("m 1\n");
  });
  ASSERT_TRUE(listener) << listener.error().message;
  const auto port = (*listener)->port();
  ASSERT_NE(port, 0);

  // Garbage, an oversized request, a client that says nothing: each ends, none hangs.
  EXPECT_TRUE(roundTrip(port, std::string("\0\xff\r\n\r\n", 6)).starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(roundTrip(port, std::string(20000, 'A')).starts_with("HTTP/1.1 431"));
  auto silent = connectTo(port);  // held open meanwhile: must not block the others
  EXPECT_TRUE(roundTrip(port, "GET /other HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
  const auto reply = roundTrip(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK")) << reply;
  EXPECT_TRUE(reply.ends_with("m 1\n"));
  EXPECT_EQ(calls.load(), 1);
  // The silent client is dropped after the timeout.
  EXPECT_EQ(roundTrip(port, ""), "");
  (*listener)->stop();
}

}  // namespace
}  // namespace contd::metrics
