// The per-request workload end to end (issue 11), through contd's gRPC API alone: a small
// server accepts TCP connections on loopback; for each one it makes a unix socket, runs a
// handler container (auto_remove, restart no) with that socket bind-mounted at
// /control.sock, passes the accepted connection to the handler with SCM_RIGHTS, and Waits
// for the handler's exit. The handler (request_handler_main.cc, a static binary) answers
// the HTTP request and exits with the code the server gave it.
// Asserted: every request answered by its own container, the exit codes Wait saw, and
// nothing left afterwards (containers, tasks, shims, log drivers, mounts, sockets).
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).


#include <algorithm>
#include <atomic>
#include <chrono>
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
#include "tests/integration/support/request_server.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kRequests = 8;
constexpr int kInFlight = 4;

using Fd = UniqueFd;

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
    support::HandlerSteps steps;
    steps.start = [&](const fs::path& control_socket) -> Status {
      auto ran = api.run(ns_, handlerSpec(out.name, out.wanted_code, control_socket));
      return ran ? okStatus() : Status(ran.error().wrap("Run"));
    };
    steps.wait = [&]() -> Result<int> {
      auto waited = api.wait(ns_, out.name);
      if (!waited) {
        return waited.error().wrap("Wait");
      }
      return waited->exit_code();
    };
    auto code = support::serveWithContainer(std::move(conn), dir_->path() / out.name, steps);
    if (code) {
      out.waited_code = *code;
    } else {
      out.error = code.error().message;
    }
    out.ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    return out;
  }

  v1::ContainerSpec handlerSpec(const std::string& name, int code, const fs::path& socket) {
    v1::ContainerSpec spec;
    spec.set_name(name);
    spec.set_rootfs(rootfs_->path().string());
    spec.set_network_namespace(netns_->name());
    spec.set_auto_remove(true);
    spec.mutable_restart()->set_mode(v1::RestartPolicy::NO);
    for (const std::string& arg :
         {std::string("/bin/sh"), std::string("-c"), "exec /handler " + std::to_string(code)}) {
      spec.add_argv(arg);
    }
    auto* sock = spec.add_mounts();
    sock->set_source(socket.string());
    sock->set_target("/control.sock");
    auto* handler = spec.add_mounts();
    handler->set_source(REQUEST_HANDLER_BIN);
    handler->set_target("/handler");
    handler->set_readonly(true);
    return spec;
  }
};

TEST_F(PerRequestIT, EachRequestIsAnsweredByAContainerOfItsOwnThatIsGoneAfterwards) {
  std::uint16_t port = 0;
  const Fd listener = support::tcpListener(port, kRequests);
  ASSERT_GE(listener.get(), 0);
  std::mutex mu;
  std::vector<Handled> handled;
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kInFlight; ++w) {
    workers.emplace_back([&] {
      contctl::Client api(daemon_->socketPath());
      for (int i; (i = next.fetch_add(1)) < kRequests;) {
        Handled one = serve(support::acceptWithin(listener.get(), 10s), i, api);
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
        answers[r] = support::httpGet(port, "/r" + std::to_string(r));
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
