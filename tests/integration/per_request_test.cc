// The per-request workload end to end (issue 11), through contd's gRPC API alone: a small
// server accepts TCP connections on loopback; for each one it makes a unix socket, runs a
// handler container (auto_remove, restart no) with that socket bind-mounted at
// /control.sock, passes the accepted connection to the handler with SCM_RIGHTS, and Waits
// for the handler's exit. The handler (request_handler_main.cc, a static binary) answers
// the HTTP request and exits with the code the server gave it.
// Asserted: every request answered by its own container, the exit codes Wait saw, and
// nothing left afterwards (containers, tasks, shims, log drivers, mounts, sockets).
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "modules/common/unique_fd.h"
#include "modules/contctl/client.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/leftovers.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kRequests = 8;
constexpr int kInFlight = 4;

using Fd = UniqueFd;

// Waits up to 10 s for a connection on `listener`.
Fd acceptWithin(int listener) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, 10'000) != 1) {
    return Fd();
  }
  return Fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
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

Fd unixListener(const fs::path& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), 1) != 0) {
    return Fd();
  }
  return fd;
}

// A loopback TCP listener on an ephemeral port; `port` gets the port.
Fd tcpListener(std::uint16_t& port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), kRequests) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Fd();
  }
  port = ntohs(addr.sin_port);
  return fd;
}

// One HTTP GET of `path` to 127.0.0.1:`port`; the whole answer ("" on error).
std::string get(std::uint16_t port, const std::string& path) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
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

struct Handled {
  std::string name;
  int wanted_code = 0;
  int waited_code = -1;
  std::string error;
  double ms = 0;
};

class PerRequestIT : public support::DaemonFixture {
protected:
  PerRequestIT()
      : DaemonFixture({.ns_prefix = "faas", .dir_prefix = "contd-faas", .start_daemon = true}) {}

  // Serves the connection `conn` (request number `i`) with a container of its own.
  Handled serve(Fd conn, int i, contctl::Client& api) {
    const auto started = Clock::now();
    Handled out{.name = "req" + std::to_string(i), .wanted_code = i % 3 == 0 ? 3 : 0};
    const fs::path sock_dir = dir_->path() / out.name;
    fs::create_directories(sock_dir);
    Fd control = unixListener(sock_dir / "control.sock");
    v1::ContainerSpec spec;
    spec.set_name(out.name);
    spec.set_rootfs(rootfs_->path().string());
    spec.set_network_namespace(netns_->name());
    spec.set_auto_remove(true);
    spec.mutable_restart()->set_mode(v1::RestartPolicy::NO);
    for (const std::string& arg :
         {std::string("/bin/sh"), std::string("-c"),
          "exec /handler " + std::to_string(out.wanted_code)}) {
      spec.add_argv(arg);
    }
    auto* sock = spec.add_mounts();
    sock->set_source((sock_dir / "control.sock").string());
    sock->set_target("/control.sock");
    auto* handler = spec.add_mounts();
    handler->set_source(REQUEST_HANDLER_BIN);
    handler->set_target("/handler");
    handler->set_readonly(true);
    if (auto ran = api.run(ns_, spec); !ran) {
      out.error = "Run: " + ran.error().message;
      return out;
    }
    Fd from_handler = acceptWithin(control.get());
    if (!from_handler.valid() || !sendFd(from_handler.get(), conn.get())) {
      out.error = "the handler did not take the connection";
    }
    conn = Fd();  // the container holds it now
    auto waited = api.wait(ns_, out.name);
    if (!waited) {
      out.error += " Wait: " + waited.error().message;
    } else {
      out.waited_code = waited->exit_code();
    }
    control = Fd();
    fs::remove_all(sock_dir);
    out.ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    return out;
  }
};

TEST_F(PerRequestIT, EachRequestIsAnsweredByAContainerOfItsOwnThatIsGoneAfterwards) {
  std::uint16_t port = 0;
  const Fd listener = tcpListener(port);
  ASSERT_GE(listener.get(), 0);
  std::mutex mu;
  std::vector<Handled> handled;
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kInFlight; ++w) {
    workers.emplace_back([&] {
      contctl::Client api(daemon_->socketPath());
      for (int i; (i = next.fetch_add(1)) < kRequests;) {
        Handled one = serve(acceptWithin(listener.get()), i, api);
        std::lock_guard lock(mu);
        handled.push_back(std::move(one));
      }
    });
  }
  std::vector<std::string> answers(kRequests);
  std::vector<std::thread> clients;
  for (int c = 0; c < kInFlight; ++c) {
    clients.emplace_back([&, c] {
      for (int r = c; r < kRequests; r += kInFlight) {
        answers[r] = get(port, "/r" + std::to_string(r));
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  for (auto& t : workers) {
    t.join();
  }
  ASSERT_EQ(handled.size(), static_cast<std::size_t>(kRequests));
  std::vector<double> ms;
  for (const auto& one : handled) {
    EXPECT_EQ(one.error, "") << one.name << "\n" << daemon_->logTail();
    EXPECT_EQ(one.waited_code, one.wanted_code) << one.name;
    ms.push_back(one.ms);
  }
  for (int r = 0; r < kRequests; ++r) {
    EXPECT_NE(answers[r].find("HTTP/1.1 200 OK"), std::string::npos) << r << ": " << answers[r];
    EXPECT_NE(answers[r].find("handled /r" + std::to_string(r) + " by req"), std::string::npos)
        << answers[r];
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "per-request: " << kRequests << " requests, " << kInFlight
            << " in flight; per request (Run to removal) p50 " << ms[ms.size() / 2]
            << " ms, max " << ms.back() << " ms" << std::endl;
  EXPECT_EQ(settledLeftovers(), "");
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_FALSE(fs::exists(dir_->path() / ("req" + std::to_string(i)))) << "socket left";
  }
}

}  // namespace
}  // namespace contd
