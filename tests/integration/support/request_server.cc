#include "tests/integration/support/request_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

namespace contd::testing {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

}  // namespace

UniqueFd tcpListener(std::uint16_t& port, int backlog) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), backlog) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return UniqueFd();
  }
  port = ntohs(addr.sin_port);
  return fd;
}

UniqueFd unixListener(const std::filesystem::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), 1) != 0) {
    return UniqueFd();
  }
  return fd;
}

UniqueFd acceptWithin(int listener, std::chrono::milliseconds timeout) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    return UniqueFd();
  }
  return UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

bool sendFd(int over, int fd) {
  char byte = 'f';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = space;
  msg.msg_controllen = sizeof space;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  return ::sendmsg(over, &msg, MSG_NOSIGNAL) == 1;
}

std::string httpGet(std::uint16_t port, const std::string& path) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
  if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    return "";
  }
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd.get(), buffer, sizeof buffer)) > 0;) {
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  return answer;
}

Result<int> serveWithContainer(UniqueFd conn, const std::filesystem::path& dir,
                               const HandlerSteps& steps) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto socket_path = dir / "control.sock";
  UniqueFd control = unixListener(socket_path);
  if (!control.valid()) {
    return internalError("listen on '" + socket_path.string() + "'");
  }
  CONTD_RETURN_IF_ERROR(steps.start(socket_path));
  UniqueFd from_handler = acceptWithin(control.get(), std::chrono::seconds(10));
  const bool handed = from_handler.valid() && sendFd(from_handler.get(), conn.get());
  conn.reset();  // the container holds it now
  auto code = steps.wait();
  control.reset();
  std::filesystem::remove_all(dir, ec);
  if (!handed) {
    return internalError("the handler did not take the connection");
  }
  return code;
}

}  // namespace contd::testing
