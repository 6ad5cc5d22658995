#pragma once
// The zbus server loop for module `container` over Redis, as zbus v1.0.1's Go server runs it
// (docs/zbus-wire.md sections 1, 2 and 6), with contd's differences:
//   - a request is taken from `container.container@0.0.1` (BLPOP, 10 s) only while a worker
//     is free; the worker dispatches it and RPUSHes the reply to ReplyTo, then EXPIRE 300;
//   - an undecodable payload is logged and dropped without a reply;
//   - the status object `container.zbus@1.0` is served by a thread and a connection of its
//     own, so it answers while every worker is busy;
//   - Redis may be absent at start or go away later: every loop reconnects with backoff
//     (100 ms doubling to 5 s) instead of failing, and the rest of contd runs on.
//
// Threading: start() and stop() from one owner thread; the server runs 2 + workers threads.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "modules/common/result.h"
#include "modules/zbus/codec.h"
#include "modules/zbus/dispatcher.h"
#include "modules/zbus/redis_connection.h"

namespace contd::zbus {

inline constexpr int kReplyExpireSeconds = 300;

// A request larger than this is dropped unread (the caller's call times out): msgpack
// decoding allocates in proportion to it, and a Run with the largest spec contd takes is
// far below. Redis itself bounds a value at 512 MB.
inline constexpr std::size_t kMaxRequestBytes = 4 << 20;

struct ServerOptions {
  std::string broker = "unix:///var/run/redis.sock";  // zbus URL
  std::size_t workers = 1;
  int poll_timeout_s = 10;  // BLPOP timeout, as zbus
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

class Server {
public:
  // Starts the loops; does not wait for Redis. Errors (kInvalidArgument): a bad broker URL
  // or zero workers.
  static Result<std::unique_ptr<Server>> start(ServerOptions options, Dispatcher& dispatcher);

  // stop().
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops taking requests, lets running calls finish and reply, joins every thread.
  void stop();

  // What the status object answers now.
  ServerStatus status() const;
  // The request queue ("container.container@0.0.1") and the status queue.
  const std::string& queue() const { return queue_; }

private:
  struct Worker {
    bool busy = false;
    GoTime since;
    std::string action;
    std::optional<Request> job;
  };

  Server(ServerOptions options, BrokerAddress address, Dispatcher& dispatcher);
  void pollLoop();
  void statusLoop();
  void workerLoop(std::size_t index);
  // Connects, retrying with backoff until it works or stop() is called (nullptr then).
  std::unique_ptr<RedisConnection> connect(const char* loop);
  // Registers the connection a loop blocks on, so that stop() can interrupt it.
  void setBlocking(std::size_t slot, RedisConnection* connection);
  void reply(std::unique_ptr<RedisConnection>& connection, const Request& request,
             const Response& response);

  ServerOptions options_;
  BrokerAddress address_;
  Dispatcher& dispatcher_;
  std::string queue_;
  std::string status_queue_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  bool stopping_ = false;
  std::vector<Worker> workers_;
  std::size_t free_workers_ = 0;
  RedisConnection* blocking_[2] = {nullptr, nullptr};  // poll, status

  std::vector<std::thread> threads_;
};

}  // namespace contd::zbus
