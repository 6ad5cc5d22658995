#pragma once
// ContainersApi::serve, the one wrapper of every call (logging, exception guard), for the
// files that implement the service's methods (containers_api.cc, exec_stream_api.cc).

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "api/contd/v1/status_name.h"
#include "modules/api_server/containers_api.h"
#include "modules/api_server/conversions.h"
#include "modules/common/call_observer.h"
#include "modules/common/logging.h"
#include "modules/common/printable.h"

namespace contd::api {
namespace serve_detail {

// Failures that are the daemon's or the environment's trouble, not the caller's.
inline bool isServerSide(grpc::StatusCode code) {
  return code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// Calls that change nothing (a fleet's agents poll them): logged at debug when they succeed,
// so that info shows what changed. Their failures are logged like any other call's.
inline bool isReadOnly(std::string_view op) {
  static constexpr std::string_view kReadOnly[] = {
      "Inspect", "List",  "ListNamespaces", "Exists",     "Events",  "Stats",
      "Logs",    "Wait",  "ListImages",     "Version",    "Info"};
  for (const auto read_only : kReadOnly) {
    if (op == read_only) {
      return true;
    }
  }
  return false;
}

inline std::string orDash(const std::optional<PeerCredentials>& peer, bool uid) {
  if (!peer) {
    return "-";
  }
  return std::to_string(uid ? static_cast<std::int64_t>(peer->uid) : peer->pid);
}

}  // namespace serve_detail

template <typename Body>
grpc::Status ContainersApi::serve(grpc::ServerContext* context, std::string_view op,
                                      std::string_view ns, std::string_view id, Body&& body) {
  using Clock = std::chrono::steady_clock;
  using serve_detail::isServerSide;
  using serve_detail::orDash;
  const auto started = Clock::now();
  // Looked up first: while this call runs, gRPC keeps the connection's fd (and so the
  // "fd:<n>" key) from being reused (see unix_listener.h).
  const auto peer = peers_.lookup(context->peer());

  grpc::Status status;
  try {
    if (Status result = body(); !result) {
      status = toGrpcStatus(result.error());
    }
  } catch (const std::exception& e) {
    status = grpc::Status(grpc::StatusCode::INTERNAL, std::string("unexpected error: ") + e.what());
  } catch (...) {
    status = grpc::Status(grpc::StatusCode::INTERNAL, "unexpected error");
  }

  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  const auto log = log::api();
  const auto code = grpcCodeName(status.error_code());
  observe::apiCall(op, code, ms / 1000.0);
  if (status.ok()) {
    log->log(serve_detail::isReadOnly(op) ? spdlog::level::debug : spdlog::level::info,
             "call op={} ns={} id={} peer_uid={} peer_pid={} code={} ms={:.1f}", op,
              printable(ns), printable(id), orDash(peer, true), orDash(peer, false), code, ms);
  } else {
    log->log(isServerSide(status.error_code()) ? spdlog::level::warn : spdlog::level::info,
             "call op={} ns={} id={} peer_uid={} peer_pid={} code={} ms={:.1f} error=\"{}\"", op,
             printable(ns), printable(id), orDash(peer, true), orDash(peer, false), code, ms,
             printable(status.error_message(), 2048));
  }
  return status;
}

}  // namespace contd::api
