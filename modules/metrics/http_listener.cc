#include "modules/metrics/http_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "modules/common/logging.h"
#include "modules/common/printable.h"

namespace contd::metrics {
namespace {

using Clock = std::chrono::steady_clock;

Result<std::uint16_t> parsePort(std::string_view text) {
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port > 65535) {
    return invalidArgument("port must be a number from 0 to 65535, got '" + std::string(text) +
                           "'");
  }
  return static_cast<std::uint16_t>(port);
}

std::string statusLine(int code) {
  switch (code) {
    case 200: return "200 OK";
    case 400: return "400 Bad Request";
    case 404: return "404 Not Found";
    case 405: return "405 Method Not Allowed";
    case 408: return "408 Request Timeout";
    default: return "431 Request Header Fields Too Large";
  }
}

std::string response(int code, std::string_view content_type, const std::string& body,
                     bool head) {
  std::string out = "HTTP/1.1 " + statusLine(code) + "\r\nContent-Type: " +
                    std::string(content_type) + "\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (code == 405) {
    out += "Allow: GET, HEAD\r\n";
  }
  out += "\r\n";
  if (!head) {
    out += body;
  }
  return out;
}

Result<UniqueFd> bindUnix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return sysError("socket", errno);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // A socket file left by a contd that died; anything else at the path is not replaced.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::unlink(path.c_str());
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return sysError("bind 'unix:" + path + "'", errno);
  }
  return fd;
}

Result<UniqueFd> bindTcp(const ListenAddress& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return sysError("socket", errno);
  }
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (v6) {
    auto* addr = reinterpret_cast<sockaddr_in6*>(&storage);
    addr->sin6_family = AF_INET6;
    addr->sin6_port = htons(address.port);
    ::inet_pton(AF_INET6, address.host.c_str(), &addr->sin6_addr);
    len = sizeof(*addr);
  } else {
    auto* addr = reinterpret_cast<sockaddr_in*>(&storage);
    addr->sin_family = AF_INET;
    addr->sin_port = htons(address.port);
    ::inet_pton(AF_INET, address.host.c_str(), &addr->sin_addr);
    len = sizeof(*addr);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), len) != 0) {
    return sysError("bind '" + address.host + ":" + std::to_string(address.port) + "'", errno);
  }
  return fd;
}

std::uint16_t boundPort(int fd) {
  sockaddr_storage storage{};
  socklen_t len = sizeof(storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len) != 0) {
    return 0;
  }
  if (storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  }
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  }
  return 0;
}

struct Client {
  UniqueFd fd;
  std::string in;
  std::string out;
  std::size_t sent = 0;
  bool answering = false;
  Clock::time_point deadline;
};

// Reads what is there; moves to answering once the request is whole, too large or the peer
// closed. Returns false when the connection is to be dropped at once.
bool readClient(Client& client, const std::function<std::string()>& body) {
  char buffer[4096];
  const ssize_t n = ::recv(client.fd.get(), buffer, sizeof(buffer), 0);
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR;
  }
  if (n == 0) {
    return false;  // closed before a whole request: nobody to answer
  }
  client.in.append(buffer, static_cast<std::size_t>(n));
  const bool whole = client.in.find("\r\n\r\n") != std::string::npos ||
                     client.in.find("\n\n") != std::string::npos;
  if (whole || client.in.size() > HttpListener::kMaxRequestBytes) {
    client.out = httpResponse(client.in, whole, body);
    client.answering = true;
  }
  return true;
}

// Sends what is left; false when done or failed (the connection is closed then).
bool writeClient(Client& client) {
  const ssize_t n = ::send(client.fd.get(), client.out.data() + client.sent,
                           client.out.size() - client.sent, MSG_NOSIGNAL);
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR;
  }
  client.sent += static_cast<std::size_t>(n);
  return client.sent < client.out.size();
}

}  // namespace

Result<ListenAddress> parseListenAddress(std::string_view text) {
  ListenAddress address;
  if (text.starts_with("unix:")) {
    address.unix_socket = true;
    address.path = std::string(text.substr(5));
    if (address.path.empty() || address.path.front() != '/' || address.path.size() > 107) {
      return invalidArgument("unix: needs an absolute socket path of at most 107 bytes, got '" +
                             printable(address.path) + "'");
    }
    return address;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalidArgument("expected 127.0.0.1:PORT, [::1]:PORT or unix:PATH, got '" +
                           printable(text) + "'");
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  in_addr v4{};
  in6_addr v6{};
  const bool loopback4 =
      ::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
  const bool loopback6 = ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
  if (!loopback4 && !loopback6) {
    return invalidArgument("must be a loopback address (127.0.0.1:PORT, [::1]:PORT) or unix:PATH,"
                           " got '" + printable(text) + "': /metrics has no authentication");
  }
  auto port = parsePort(text.substr(colon + 1));
  if (!port) {
    return port.error();
  }
  address.host = host;
  address.port = *port;
  return address;
}

std::string httpResponse(std::string_view request, bool complete,
                         const std::function<std::string()>& body) {
  if (!complete) {
    return response(431, "text/plain; charset=utf-8", "request too large\n", false);
  }
  const auto line_end = request.find_first_of("\r\n");
  const std::string_view line = request.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    return response(400, "text/plain; charset=utf-8", "bad request\n", false);
  }
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  const bool head = method == "HEAD";
  if (target != "/metrics") {
    return response(404, "text/plain; charset=utf-8", "not found: only /metrics is served\n", head);
  }
  if (method != "GET" && !head) {
    return response(405, "text/plain; charset=utf-8", "method not allowed\n", false);
  }
  return response(200, "text/plain; version=0.0.4; charset=utf-8", body(), head);
}

Result<std::unique_ptr<HttpListener>> HttpListener::start(const ListenAddress& address,
                                                          std::function<std::string()> body) {
  auto fd = address.unix_socket ? bindUnix(address.path) : bindTcp(address);
  if (!fd) {
    return fd.error();
  }
  if (::listen(fd->get(), 64) != 0) {
    return sysError("listen", errno);
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return sysError("eventfd", errno);
  }
  const std::uint16_t port = address.unix_socket ? 0 : boundPort(fd->get());
  std::unique_ptr<HttpListener> listener(
      new HttpListener(std::move(*fd), std::move(wake), std::move(body)));
  listener->unix_path_ = address.unix_socket ? address.path : std::string();
  listener->port_ = port;
  listener->thread_ = std::thread([raw = listener.get()] { raw->run(); });
  return listener;
}

HttpListener::HttpListener(UniqueFd listen_fd, UniqueFd wake_fd, std::function<std::string()> body)
    : listen_fd_(std::move(listen_fd)), wake_fd_(std::move(wake_fd)), body_(std::move(body)) {}

HttpListener::~HttpListener() { stop(); }

void HttpListener::stop() {
  if (!thread_.joinable()) {
    return;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_.get(), &one, sizeof(one));
  thread_.join();
  listen_fd_.reset();
  if (!unix_path_.empty()) {
    ::unlink(unix_path_.c_str());
  }
}

void HttpListener::run() {
  std::vector<Client> clients;
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({wake_fd_.get(), POLLIN, 0});
    // Beyond kMaxClients new connections wait in the backlog until one ends.
    fds.push_back({listen_fd_.get(), static_cast<short>(clients.size() < kMaxClients ? POLLIN : 0), 0});
    for (const auto& client : clients) {
      fds.push_back({client.fd.get(), static_cast<short>(client.answering ? POLLOUT : POLLIN), 0});
    }
    if (::poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR) {
      log::contd()->error("op=metrics.http poll failed: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) {
      return;  // stop(); the clients close with the vector
    }
    const auto now = Clock::now();
    std::vector<Client> kept;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      auto& client = clients[i];
      const short revents = fds[i + 2].revents;
      bool keep = now < client.deadline;
      if (keep && (revents & (POLLERR | POLLNVAL)) != 0) {
        keep = false;
      } else if (keep && (revents & (POLLIN | POLLHUP)) != 0 && !client.answering) {
        keep = readClient(client, body_);
      } else if (keep && (revents & POLLOUT) != 0) {
        keep = writeClient(client);
      }
      if (keep) {
        kept.push_back(std::move(client));
      }
    }
    clients = std::move(kept);
    if ((fds[1].revents & POLLIN) != 0) {
      UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (fd.valid()) {
        clients.push_back({.fd = std::move(fd), .deadline = now + kClientTimeout});
      }
    }
  }
}

}  // namespace contd::metrics
