#pragma once
// The per-request server of issue 11, for the test that proves it (per_request_test.cc) and
// the benchmark that times it (tests/bench/bench_oneshot.cc): TCP connections accepted on
// loopback, each served by a handler container of its own, which gets the connection over
// a unix socket bind-mounted at /control.sock (SCM_RIGHTS). How the container is run (contd,
// ctr) is the caller's: HandlerSteps.
//
// Threading: every function may be called from any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "modules/common/result.h"
#include "modules/common/unique_fd.h"

namespace contd::testing {

// A loopback TCP listener on an ephemeral port (written to `port`); invalid on error.
UniqueFd tcpListener(std::uint16_t& port, int backlog);
// A unix socket listener at `path`; invalid on error.
UniqueFd unixListener(const std::filesystem::path& path);
// The next connection on `listener`, waiting up to `timeout`; invalid when none came.
UniqueFd acceptWithin(int listener, std::chrono::milliseconds timeout);
// Sends `fd` over the unix socket `over` (SCM_RIGHTS, one byte of data).
bool sendFd(int over, int fd);
// One HTTP GET of `path` to 127.0.0.1:`port`; the whole answer ("" on error).
std::string httpGet(std::uint16_t port, const std::string& path);

// How one handler container is run: `start` runs it with `control_socket` mounted at
// /control.sock (and returns once it was started), `wait` returns its exit code.
struct HandlerSteps {
  std::function<Status(const std::filesystem::path& control_socket)> start;
  std::function<Result<int>()> wait;
};

// Serves `conn` with one handler container: makes `dir`/control.sock, starts the handler,
// hands it the connection and waits for its exit code. Removes `dir` afterwards.
Result<int> serveWithContainer(UniqueFd conn, const std::filesystem::path& dir,
                               const HandlerSteps& steps);

}  // namespace contd::testing
