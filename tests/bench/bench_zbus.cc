// bench_zbus: round-trip latency of Inspect through the zbus bridge (Redis + msgpack, as a
// Go module calls it) and through contd's gRPC socket, on the same daemon, printed side by
// side. Both ask for a container that does not exist, so the figures are the transport and
// dispatch path (the core answers NotFound after one containerd lookup in both cases).
//
// Needs root, containerd and redis-server (like the integration tests). Usage:
//   bench_zbus [CALLS]        (default 1000 per transport, after 50 warm-up calls)

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/logging.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/stats.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/zbus_client.h"
#include "tests/integration/zbus_redis_server.h"
#include "modules/zbus/codec.h"

namespace {

using contd::bench::Clock;
using contd::bench::msSince;
namespace support = contd::testing;

constexpr int kWarmup = 50;

double p99(const std::vector<double>& samples) {
  return contd::bench::percentile(samples, 0.99);
}

int fail(const std::string& what) {
  std::fprintf(stderr, "bench_zbus: %s\n", what.c_str());
  return 1;
}

// Inspect of a missing container over zbus, `calls` times after the warm-up: the
// milliseconds of each, or nothing when a reply was not the expected error.
std::optional<std::vector<double>> timeZbus(support::ZbusClient& client, int calls) {
  const std::string ns = contd::zbus::encodeString("bench");
  const std::string id = contd::zbus::encodeString("missing");
  std::vector<double> zbus_ms;
  for (int i = 0; i < kWarmup + calls; ++i) {
    const auto start = Clock::now();
    auto response = client.call(support::ZbusClient::request("Inspect", {ns, id}));
    const double ms = msSince(start);
    if (!response || response->error || !response->output.error) {
      fail("zbus Inspect: unexpected reply");
      return std::nullopt;
    }
    if (i >= kWarmup) {
      zbus_ms.push_back(ms);
    }
  }
  return zbus_ms;
}

// The same over the gRPC socket; nothing when an answer was not NOT_FOUND.
std::optional<std::vector<double>> timeGrpc(contd::v1::Containers::Stub& stub, int calls) {
  std::vector<double> grpc_ms;
  for (int i = 0; i < kWarmup + calls; ++i) {
    contd::v1::InspectRequest request;
    request.set_namespace_("bench");
    request.set_id("missing");
    contd::v1::InspectResponse response;
    grpc::ClientContext context;
    const auto start = Clock::now();
    const grpc::Status status = stub.Inspect(&context, request, &response);
    const double ms = msSince(start);
    if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
      fail("gRPC Inspect: " + status.error_message());
      return std::nullopt;
    }
    if (i >= kWarmup) {
      grpc_ms.push_back(ms);
    }
  }
  return grpc_ms;
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 1000;
  if (argc > 1) {
    auto parsed = contd::bench::parseNumber<int>("CALLS", argv[1]);
    if (!parsed) {
      std::fprintf(stderr, "bench_zbus: %s\nusage: bench_zbus [CALLS]\n",
                   parsed.error().message.c_str());
      return 2;
    }
    calls = *parsed;
  }
  contd::log::init("warn");

  auto containerd = support::PrivateContainerd::start();
  if (!containerd) {
    return fail(containerd.error().message);
  }
  auto redis = support::RedisServer::start();
  if (!redis) {
    return fail(redis.error().message);
  }
  auto dir = support::TempDir::make("contd-bench-zbus");
  if (!dir) {
    return fail(dir.error().message);
  }
  auto daemon = support::ContdDaemon::start({.binary = CONTD_BIN,
                                             .containerd_socket = (*containerd)->socketPath(),
                                             .dir = dir->path() / "contd",
                                             .extra_args = {"--broker", (*redis)->url()}});
  if (!daemon) {
    return fail(daemon.error().message);
  }
  auto zbus_client = support::ZbusClient::connect((*redis)->url());
  if (!zbus_client) {
    return fail(zbus_client.error().message);
  }
  auto channel = grpc::CreateChannel("unix:" + (*daemon)->socketPath(),
                                     grpc::InsecureChannelCredentials());
  auto stub = contd::v1::Containers::NewStub(channel);

  auto zbus_ms = timeZbus(**zbus_client, calls);
  if (!zbus_ms) {
    return 1;
  }
  auto grpc_ms = timeGrpc(*stub, calls);
  if (!grpc_ms) {
    return 1;
  }
  const auto zbus = contd::bench::summarize(*zbus_ms);
  const auto grpc_summary = contd::bench::summarize(*grpc_ms);
  using contd::bench::formatMs;
  using contd::bench::padLeft;
  using contd::bench::padRight;
  std::printf("Inspect round trip, %d calls each (ms)\n", calls);
  std::printf("%s%s%s%s\n", padRight("transport", 28).c_str(), padLeft("median", 9).c_str(),
              padLeft("p99", 9).c_str(), padLeft("max", 9).c_str());
  std::printf("%s%s%s%s\n", padRight("zbus (Redis unix socket)", 28).c_str(),
              padLeft(formatMs(zbus.median), 9).c_str(), padLeft(formatMs(p99(*zbus_ms)), 9).c_str(),
              padLeft(formatMs(zbus.max), 9).c_str());
  std::printf("%s%s%s%s\n", padRight("gRPC (unix socket)", 28).c_str(),
              padLeft(formatMs(grpc_summary.median), 9).c_str(),
              padLeft(formatMs(p99(*grpc_ms)), 9).c_str(),
              padLeft(formatMs(grpc_summary.max), 9).c_str());
  (void)(*daemon)->stop();
  return 0;
}
