#pragma once
// The opt-in /metrics endpoint: a tiny HTTP/1.1 server on loopback TCP or a unix socket.
//
// Hostile input is expected and harmless: one thread polls the listening socket and at most
// kMaxClients connections; a request is read up to kMaxRequestBytes and for at most
// kClientTimeout, then answered and the connection closed (no keep-alive, no body read).
// GET (or HEAD) /metrics answers 200 with the exposition, any other path 404, another
// method 405, a request line that does not parse 400, one too large 431; more clients than
// kMaxClients wait in the kernel's backlog.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "modules/common/result.h"
#include "modules/common/unique_fd.h"

namespace contd::metrics {

// Where /metrics listens: a loopback TCP address or a unix socket path.
struct ListenAddress {
  bool unix_socket = false;
  std::string host;  // "127.0.0.1" (any 127.0.0.0/8) or "::1"
  std::uint16_t port = 0;
  std::string path;  // unix_socket: absolute, at most 107 bytes
};

// Parses "127.0.0.1:PORT", "[::1]:PORT" or "unix:/PATH". Anything that is not loopback is
// refused (kInvalidArgument): the endpoint has no authentication.
Result<ListenAddress> parseListenAddress(std::string_view text);

class HttpListener {
public:
  static constexpr std::size_t kMaxClients = 16;
  static constexpr std::size_t kMaxRequestBytes = 8192;
  static constexpr std::chrono::milliseconds kClientTimeout{5000};

  // Binds and listens (a stale unix socket file is replaced), then serves from a thread of
  // its own; body() is called on that thread for each GET /metrics. Errors: the failing call
  // (bind: address in use, ...), naming the address.
  static Result<std::unique_ptr<HttpListener>> start(const ListenAddress& address,
                                                     std::function<std::string()> body);
  ~HttpListener();  // stop()
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Stops serving, closes every connection, removes a unix socket file; idempotent.
  void stop();
  // The port bound (useful with port 0), 0 for a unix socket.
  std::uint16_t port() const { return port_; }

private:
  HttpListener(UniqueFd listen_fd, UniqueFd wake_fd, std::function<std::string()> body);
  void run();

  UniqueFd listen_fd_;
  UniqueFd wake_fd_;  // an eventfd that stop() signals
  std::function<std::string()> body_;
  std::string unix_path_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// The response to one raw request (what arrived up to the blank line); for the tests.
// `complete` is false when the request was cut short (too large or timed out).
std::string httpResponse(std::string_view request, bool complete,
                         const std::function<std::string()>& body);

}  // namespace contd::metrics
