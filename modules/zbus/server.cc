#include "modules/zbus/server.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>

#include "modules/common/logging.h"
#include "modules/common/printable.h"

namespace contd::zbus {
namespace {

// Caller text in a log line is escaped and cut (modules/common/printable.h).
constexpr std::size_t kLoggedErrorBytes = 2048;

Result<Request> decodeBounded(const std::string& payload) {
  if (payload.size() > kMaxRequestBytes) {
    return invalidArgument("larger than " + std::to_string(kMaxRequestBytes) +
                           " bytes, not decoded");
  }
  return decodeRequest(payload);
}

constexpr std::size_t kPollSlot = 0;
constexpr std::size_t kStatusSlot = 1;

// A broker that goes away must not kill the process: writes to its socket then fail with
// EPIPE instead of raising SIGPIPE (hiredis uses write(), which has no MSG_NOSIGNAL). The
// signal stays blocked for the life of the bridge's own threads only.
void blockSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

GoTime now() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return GoTime::fromUnixNanos(ns.count());
}

std::string queueName(const ObjectId& object) {
  return std::string(kModuleName) + "." + object.toString();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Dispatcher& dispatcher) {
  auto address = parseBrokerUrl(options.broker);
  if (!address) {
    return address.error();
  }
  if (options.workers == 0) {
    return invalidArgument("zbus: at least one worker is needed");
  }
  std::unique_ptr<Server> server(new Server(std::move(options), std::move(*address), dispatcher));
  for (std::size_t i = 0; i < server->workers_.size(); ++i) {
    server->threads_.emplace_back(&Server::workerLoop, server.get(), i);
  }
  server->threads_.emplace_back(&Server::statusLoop, server.get());
  server->threads_.emplace_back(&Server::pollLoop, server.get());
  log::zbus()->info("serving broker={} queue={} status={} workers={}", server->address_.describe(),
                  server->queue_, server->status_queue_, server->workers_.size());
  return server;
}

Server::Server(ServerOptions options, BrokerAddress address, Dispatcher& dispatcher)
    : options_(std::move(options)),
      address_(std::move(address)),
      dispatcher_(dispatcher),
      queue_(queueName(Dispatcher::object())),
      status_queue_(queueName(ObjectId{"zbus", "1.0"})),
      workers_(options_.workers),
      free_workers_(options_.workers) {
  const GoTime started = now();
  for (auto& worker : workers_) {
    worker.since = started;
  }
}

Server::~Server() { stop(); }

void Server::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) {
      return;
    }
    stopping_ = true;
    for (auto* connection : blocking_) {
      if (connection != nullptr) {
        connection->interrupt();
      }
    }
  }
  changed_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
  threads_.clear();
}

ServerStatus Server::status() const {
  ServerStatus status;
  status.objects.push_back(Dispatcher::object());
  std::lock_guard lock(mutex_);
  for (const auto& worker : workers_) {
    status.workers.push_back(WorkerStatus{
        .state = worker.busy ? "busy" : "free", .start_time = worker.since, .action = worker.action});
  }
  return status;
}

void Server::setBlocking(std::size_t slot, RedisConnection* connection) {
  std::lock_guard lock(mutex_);
  blocking_[slot] = connection;
  if (stopping_ && connection != nullptr) {
    connection->interrupt();
  }
}

std::unique_ptr<RedisConnection> Server::connect(const char* loop) {
  auto delay = options_.reconnect_min;
  for (std::size_t attempt = 1;; ++attempt) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return nullptr;
      }
    }
    auto connection = RedisConnection::open(address_);
    if (connection) {
      if (attempt > 1) {
        log::zbus()->info("reconnected loop={} broker={} attempts={}", loop, address_.describe(),
                        attempt);
      }
      return std::move(*connection);
    }
    // Loudly at first, then only now and then: Redis may be down for long.
    if (attempt == 1 || attempt % 20 == 0) {
      log::zbus()->warn("broker unavailable loop={} attempt={} retry_ms={}: {}", loop, attempt,
                      delay.count(), connection.error().message);
    }
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, delay, [this] { return stopping_; });
    delay = std::min(delay * 2, options_.reconnect_max);
  }
}

void Server::pollLoop() {
  blockSigpipe();
  std::unique_ptr<RedisConnection> connection;
  while (true) {
    {
      // As zbus: a request leaves Redis only when a worker is free to take it.
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return stopping_ || free_workers_ > 0; });
      if (stopping_) {
        break;
      }
    }
    if (!connection) {
      connection = connect("requests");
      if (!connection) {
        break;
      }
      setBlocking(kPollSlot, connection.get());
    }
    auto popped = connection->blpop(queue_, options_.poll_timeout_s);
    if (!popped) {
      setBlocking(kPollSlot, nullptr);
      connection.reset();
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        log::zbus()->warn("broker connection lost loop=requests: {}", popped.error().message);
      }
      continue;
    }
    if (!*popped) {
      continue;  // BLPOP timed out
    }
    auto request = decodeBounded(**popped);
    if (!request) {
      // No trustworthy ReplyTo: nobody to answer.
      log::zbus()->warn("dropped undecodable request bytes={}: {}", (*popped)->size(),
                        printable(request.error().message, kLoggedErrorBytes));
      continue;
    }
    std::lock_guard lock(mutex_);
    auto free = std::find_if(workers_.begin(), workers_.end(),
                             [](const Worker& w) { return !w.busy && !w.job; });
    free->busy = true;
    free->since = now();
    free->action = Dispatcher::action(*request);
    free->job = std::move(*request);
    --free_workers_;
    changed_.notify_all();
  }
  setBlocking(kPollSlot, nullptr);
}

void Server::statusLoop() {
  blockSigpipe();
  std::unique_ptr<RedisConnection> connection;
  while (true) {
    if (!connection) {
      connection = connect("status");
      if (!connection) {
        break;
      }
      setBlocking(kStatusSlot, connection.get());
    }
    auto popped = connection->blpop(status_queue_, options_.poll_timeout_s);
    if (!popped) {
      setBlocking(kStatusSlot, nullptr);
      connection.reset();
      std::lock_guard lock(mutex_);
      if (stopping_) {
        break;
      }
      log::zbus()->warn("broker connection lost loop=status: {}", popped.error().message);
      continue;
    }
    if (!*popped) {
      continue;
    }
    auto request = decodeBounded(**popped);
    if (!request) {
      log::zbus()->warn("dropped undecodable status request bytes={}: {}", (*popped)->size(),
                        printable(request.error().message, kLoggedErrorBytes));
      continue;
    }
    // Go's server answers whatever Method and Inputs say.
    const Response response{.id = request->id,
                            .output = Output{.data = encodeStatus(status())},
                            .error = std::nullopt};
    // reply() may replace the connection: stop() must never see a freed one.
    setBlocking(kStatusSlot, nullptr);
    reply(connection, *request, response);
    setBlocking(kStatusSlot, connection.get());
  }
  setBlocking(kStatusSlot, nullptr);
}

void Server::workerLoop(std::size_t index) {
  blockSigpipe();
  std::unique_ptr<RedisConnection> connection;
  while (true) {
    Request request;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || workers_[index].job.has_value(); });
      if (!workers_[index].job) {
        break;  // stopping and idle
      }
      request = std::move(*workers_[index].job);
      workers_[index].job.reset();
    }
    const auto started = std::chrono::steady_clock::now();
    const Response response = dispatcher_.handle(request);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    if (response.error) {
      log::zbus()->warn("call method={} reply_to={} protocol_error=\"{}\"",
                        printable(request.method), printable(request.reply_to),
                        printable(*response.error, kLoggedErrorBytes));
    } else if (response.output.error) {
      log::zbus()->info("call method={} ms={} error=\"{}\"", printable(request.method), ms,
                        printable(*response.output.error, kLoggedErrorBytes));
    } else {
      log::zbus()->debug("call method={} ms={} ok", printable(request.method), ms);
    }
    reply(connection, request, response);
    std::lock_guard lock(mutex_);
    workers_[index].busy = false;
    workers_[index].since = now();
    workers_[index].action.clear();
    ++free_workers_;
    changed_.notify_all();
  }
}

void Server::reply(std::unique_ptr<RedisConnection>& connection, const Request& request,
                   const Response& response) {
  const std::string payload = encodeResponse(response);
  // One retry on a fresh connection: the broker may have restarted since the last reply.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connection) {
      auto opened = RedisConnection::open(address_);
      if (!opened) {
        log::zbus()->error("reply lost method={} reply_to={}: {}", printable(request.method),
                           printable(request.reply_to), opened.error().message);
        return;
      }
      connection = std::move(*opened);
    }
    auto pushed = connection->pushReply(request.reply_to, payload, kReplyExpireSeconds);
    if (pushed) {
      return;
    }
    connection.reset();
    if (attempt == 1) {
      log::zbus()->error("reply lost method={} reply_to={}: {}", printable(request.method),
                         printable(request.reply_to), pushed.error().message);
    }
  }
}

}  // namespace contd::zbus
