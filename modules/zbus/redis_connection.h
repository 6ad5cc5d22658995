#pragma once
// One blocking connection to the zbus broker (Redis), with the few commands zbus uses.
//
// Broker addresses use zbus's URL syntax: `tcp://host:port` or `unix:///path`. A user part
// (`tcp://secret@host:port`, `unix://secret@/path`) is sent as the AUTH password, as zbus
// does (it passes the URL's user name, so in `a:b@` only `a` counts).
//
// Threading: a connection belongs to one thread, except interrupt(), which any thread may
// call while the owner is blocked in a command, to make that command fail at once.

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::zbus {

struct BrokerAddress {
  bool unix_socket = false;
  std::string host;  // tcp
  int port = 0;      // tcp
  std::string path;  // unix
  std::string password;  // empty: no AUTH

  // "unix:///var/run/redis.sock" or "tcp://127.0.0.1:6379", without the password.
  std::string describe() const;
};

// Errors (kInvalidArgument): another scheme, no path, no host or port, a bad port.
Result<BrokerAddress> parseBrokerUrl(std::string_view url);

class RedisConnection {
public:
  // Connects within `timeout`, sends AUTH when there is a password, then PING (as zbus
  // does at start). Commands fail after `io_timeout` without an answer.
  // Errors: kUnavailable naming the address and hiredis's reason.
  static Result<std::unique_ptr<RedisConnection>> open(
      const BrokerAddress& address, std::chrono::milliseconds timeout = std::chrono::seconds(2),
      std::chrono::milliseconds io_timeout = std::chrono::seconds(20));

  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // BLPOP key timeout_s: the popped value, or nullopt when the timeout passed.
  // Errors (kUnavailable): the connection broke; it is unusable afterwards.
  Result<std::optional<std::string>> blpop(const std::string& key, int timeout_s);
  Status rpush(const std::string& key, std::string_view value);
  // zbus's reply: RPUSH key payload, then EXPIRE key expire_s, pipelined (no MULTI).
  Status pushReply(const std::string& key, std::string_view payload, int expire_s);
  // Any command, for tests: the reply as text (integers in decimal, nil as nullopt).
  Result<std::optional<std::string>> command(const std::vector<std::string>& argv);

  // Makes a command blocked on this connection fail now (shutdown of the socket).
  void interrupt();

private:
  explicit RedisConnection(redisContext* context) : context_(context) {}
  Status fail(std::string_view what);

  redisContext* context_;
};

}  // namespace contd::zbus
