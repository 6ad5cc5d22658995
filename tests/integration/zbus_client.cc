#include "tests/integration/zbus_client.h"

#include <random>

namespace contd::testing {

Result<std::unique_ptr<ZbusClient>> ZbusClient::connect(const std::string& broker_url) {
  auto address = zbus::parseBrokerUrl(broker_url);
  if (!address) {
    return address.error();
  }
  auto connection = zbus::RedisConnection::open(*address);
  if (!connection) {
    return connection.error();
  }
  return std::unique_ptr<ZbusClient>(new ZbusClient(std::move(*connection)));
}

std::string ZbusClient::newId() {
  thread_local std::mt19937_64 random(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (char& c : id) {
    if (c == 'x') {
      c = kHex[random() % 16];
    } else if (c == 'y') {
      c = kHex[8 + random() % 4];
    }
  }
  return id;
}

zbus::Request ZbusClient::request(std::string method, std::vector<std::string> inputs) {
  const std::string id = newId();
  return zbus::Request{.id = id,
                       .inputs = std::move(inputs),
                       .object = {"container", "0.0.1"},
                       .reply_to = id,
                       .method = std::move(method)};
}

Result<std::string> ZbusClient::rawCall(const std::string& queue, const std::string& payload,
                                        const std::string& reply_to,
                                        std::chrono::milliseconds timeout) {
  CONTD_RETURN_IF_ERROR(connection_->rpush(queue, payload));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = connection_->blpop(reply_to, 1);
    if (!reply) {
      return reply.error();
    }
    if (*reply) {
      return std::move(**reply);
    }
  }
  return makeError(Code::kDeadlineExceeded, "no reply on '" + reply_to + "'");
}

Result<zbus::Response> ZbusClient::call(const zbus::Request& request,
                                        std::chrono::milliseconds timeout) {
  auto bytes = rawCall("container.container@0.0.1", zbus::encodeRequest(request),
                       request.reply_to, timeout);
  if (!bytes) {
    return bytes.error();
  }
  return zbus::decodeResponse(*bytes);
}

Result<zbus::ServerStatus> ZbusClient::status(std::chrono::milliseconds timeout) {
  const std::string id = newId();
  const zbus::Request request{
      .id = id, .inputs = {}, .object = {"zbus", "1.0"}, .reply_to = id, .method = ""};
  auto bytes = rawCall("container.zbus@1.0", zbus::encodeRequest(request), id, timeout);
  if (!bytes) {
    return bytes.error();
  }
  auto response = zbus::decodeResponse(*bytes);
  if (!response) {
    return response.error();
  }
  if (response->error || !response->output.data) {
    return internalError("status: unexpected reply");
  }
  return zbus::decodeStatus(*response->output.data);
}

}  // namespace contd::testing
