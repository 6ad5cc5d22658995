#include "modules/zbus/redis_connection.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>
#include <charconv>

namespace contd::zbus {
namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

Result<std::string> percentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || hexValue(text[i + 1]) < 0 || hexValue(text[i + 2]) < 0) {
      return invalidArgument("broker: bad percent escape in the user part");
    }
    out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
    i += 2;
  }
  return out;
}

using ReplyPtr = std::unique_ptr<redisReply, void (*)(void*)>;

ReplyPtr takeReply(void* reply) { return ReplyPtr(static_cast<redisReply*>(reply), freeReplyObject); }

}  // namespace

std::string BrokerAddress::describe() const {
  return unix_socket ? "unix://" + path : "tcp://" + host + ":" + std::to_string(port);
}

Result<BrokerAddress> parseBrokerUrl(std::string_view url) {
  BrokerAddress address;
  std::string_view rest;
  if (url.starts_with("unix://")) {
    address.unix_socket = true;
    rest = url.substr(7);
  } else if (url.starts_with("tcp://")) {
    rest = url.substr(6);
  } else {
    return invalidArgument("broker: unknown scheme in '" + std::string(url) +
                           "', expecting tcp:// or unix://");
  }
  // The user part ends at the last '@' before the path.
  const auto slash = rest.find('/');
  const auto at = rest.substr(0, slash).rfind('@');
  if (at != std::string_view::npos) {
    std::string_view user = rest.substr(0, at);
    user = user.substr(0, user.find(':'));  // zbus sends the URL's user name
    auto password = percentDecode(user);
    if (!password) {
      return password.error();
    }
    address.password = std::move(*password);
    rest.remove_prefix(at + 1);
  }
  if (address.unix_socket) {
    if (rest.empty() || rest.front() != '/') {
      return invalidArgument("broker: '" + std::string(url) + "' has no absolute socket path");
    }
    address.path = std::string(rest.substr(0, rest.find('?')));
    return address;
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == authority.size()) {
    return invalidArgument("broker: '" + std::string(url) + "' needs host:port");
  }
  std::string_view host = authority.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view port = authority.substr(colon + 1);
  int value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value <= 0 || value > 65535) {
    return invalidArgument("broker: bad port in '" + std::string(url) + "'");
  }
  address.host = std::string(host);
  address.port = value;
  return address;
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::open(const BrokerAddress& address,
                                                               std::chrono::milliseconds timeout,
                                                               std::chrono::milliseconds io_timeout) {
  const timeval tv = toTimeval(timeout);
  redisContext* context = address.unix_socket
                              ? redisConnectUnixWithTimeout(address.path.c_str(), tv)
                              : redisConnectWithTimeout(address.host.c_str(), address.port, tv);
  if (context == nullptr) {
    return unavailable("connect " + address.describe() + ": out of memory");
  }
  if (context->err != 0) {
    std::string reason = context->errstr;
    redisFree(context);
    return unavailable("connect " + address.describe() + ": " + reason);
  }
  std::unique_ptr<RedisConnection> connection(new RedisConnection(context));
  if (redisSetTimeout(context, toTimeval(io_timeout)) != REDIS_OK) {
    return unavailable("connect " + address.describe() + ": set timeout failed");
  }
  if (!address.password.empty()) {
    auto auth = connection->command({"AUTH", address.password});
    if (!auth) {
      return auth.error().wrap("connect " + address.describe());
    }
  }
  auto ping = connection->command({"PING"});
  if (!ping) {
    return ping.error().wrap("connect " + address.describe());
  }
  return connection;
}

RedisConnection::~RedisConnection() { redisFree(context_); }

// Only the read side: a blocked read returns at once, and a later write cannot raise SIGPIPE.
void RedisConnection::interrupt() { ::shutdown(context_->fd, SHUT_RD); }

Status RedisConnection::fail(std::string_view what) {
  const std::string reason = context_->err != 0 ? context_->errstr : "no reply";
  return unavailable(std::string(what) + ": " + reason);
}

Result<std::optional<std::string>> RedisConnection::command(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  for (const auto& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto reply = takeReply(
      redisCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data()));
  if (!reply) {
    return fail(argv.empty() ? "command" : argv.front()).error();
  }
  switch (reply->type) {
    case REDIS_REPLY_ERROR:
      return makeError(Code::kFailedPrecondition, std::string(argv.front()) + ": " +
                                                      std::string(reply->str, reply->len));
    case REDIS_REPLY_NIL:
      return std::optional<std::string>{};
    case REDIS_REPLY_INTEGER:
      return std::optional<std::string>(std::to_string(reply->integer));
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::optional<std::string>(std::string(reply->str, reply->len));
    case REDIS_REPLY_ARRAY:
      // BLPOP's [key, value]: the value.
      if (reply->elements == 2 && reply->element[1]->type == REDIS_REPLY_STRING) {
        return std::optional<std::string>(
            std::string(reply->element[1]->str, reply->element[1]->len));
      }
      return std::optional<std::string>(std::to_string(reply->elements));
    default:
      return std::optional<std::string>{};
  }
}

Result<std::optional<std::string>> RedisConnection::blpop(const std::string& key, int timeout_s) {
  return command({"BLPOP", key, std::to_string(timeout_s)});
}

Status RedisConnection::rpush(const std::string& key, std::string_view value) {
  auto reply = command({"RPUSH", key, std::string(value)});
  if (!reply) {
    return reply.error();
  }
  return okStatus();
}

Status RedisConnection::pushReply(const std::string& key, std::string_view payload, int expire_s) {
  const std::string expire = std::to_string(expire_s);
  const char* rpush[] = {"RPUSH", key.data(), payload.data()};
  const std::size_t rpush_len[] = {5, key.size(), payload.size()};
  const char* expire_cmd[] = {"EXPIRE", key.data(), expire.data()};
  const std::size_t expire_len[] = {6, key.size(), expire.size()};
  if (redisAppendCommandArgv(context_, 3, rpush, rpush_len) != REDIS_OK ||
      redisAppendCommandArgv(context_, 3, expire_cmd, expire_len) != REDIS_OK) {
    return fail("RPUSH reply");
  }
  for (const char* what : {"RPUSH", "EXPIRE"}) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) {
      return fail(what);
    }
    auto reply = takeReply(raw);
    if (reply && reply->type == REDIS_REPLY_ERROR) {
      return makeError(Code::kFailedPrecondition,
                       std::string(what) + ": " + std::string(reply->str, reply->len));
    }
  }
  return okStatus();
}

}  // namespace contd::zbus
