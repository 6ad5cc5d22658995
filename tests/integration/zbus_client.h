#pragma once
// A zbus client for tests and benchmarks that sends exactly what the Go client sends: RPUSH
// of a Request (36-character UUIDv4 id, ReplyTo = ID) to container.container@0.0.1, then
// BLPOP <id> 1 until the reply arrives.
//
// Threading: one client per thread (it owns one Redis connection).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "modules/common/result.h"
#include "modules/zbus/codec.h"
#include "modules/zbus/redis_connection.h"

namespace contd::testing {

class ZbusClient {
public:
  static Result<std::unique_ptr<ZbusClient>> connect(const std::string& broker_url);

  // A fresh lower-case UUIDv4.
  static std::string newId();
  // A Request for container@0.0.1 with a fresh id.
  static zbus::Request request(std::string method, std::vector<std::string> inputs);

  // Pushes `payload` to `queue` and waits up to `timeout` for the reply on `reply_to`.
  // Errors: kDeadlineExceeded without a reply; kInvalidArgument for an undecodable one.
  Result<std::string> rawCall(const std::string& queue, const std::string& payload,
                              const std::string& reply_to,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The decoded response of `request`.
  Result<zbus::Response> call(const zbus::Request& request,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Status request to container.zbus@1.0.
  Result<zbus::ServerStatus> status(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  // Any command (EXISTS, TTL, RPUSH garbage...).
  Result<std::optional<std::string>> command(const std::vector<std::string>& argv) {
    return connection_->command(argv);
  }

private:
  explicit ZbusClient(std::unique_ptr<zbus::RedisConnection> connection)
      : connection_(std::move(connection)) {}

  std::unique_ptr<zbus::RedisConnection> connection_;
};

}  // namespace contd::testing
