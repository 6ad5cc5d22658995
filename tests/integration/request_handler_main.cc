// The handler container of the per-request test (per_request_test.cc): a static binary run
// inside a container. It connects to /control.sock, receives one TCP connection's fd by
// SCM_RIGHTS, reads an HTTP request from it, answers "handled <path> by <hostname>", and
// exits with the code given as argv[1] (0 when none). Only libc: it runs in a busybox rootfs.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int fail(const char* what) {
  std::perror(what);
  return 100;
}

// One fd passed over the unix socket `control`; -1 on error.
int receiveFd(int control) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = space;
  msg.msg_controllen = sizeof space;
  if (::recvmsg(control, &msg, 0) <= 0) {
    return -1;
  }
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
    return -1;
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return fd;
}

bool writeAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int code = argc > 1 ? std::atoi(argv[1]) : 0;
  const int control = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, "/control.sock");
  if (control < 0 || ::connect(control, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail("connect /control.sock");
  }
  const int client = receiveFd(control);
  if (client < 0) {
    return fail("receive the connection");
  }
  std::string request;
  char buffer[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
    const ssize_t n = ::read(client, buffer, sizeof buffer);
    if (n <= 0) {
      return fail("read the request");
    }
    request.append(buffer, static_cast<std::size_t>(n));
  }
  const auto start = request.find(' ') + 1;
  const std::string path = request.substr(start, request.find(' ', start) - start);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string body = "handled " + path + " by " + host + "\n";
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  if (!writeAll(client, answer)) {
    return fail("write the answer");
  }
  ::close(client);
  return code;
}
