#include "tests/integration/zbus_redis_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/integration/support/run_command.h"
#include "modules/zbus/redis_connection.h"

namespace contd::testing {

using namespace std::chrono_literals;

Result<std::unique_ptr<RedisServer>> RedisServer::start() {
  auto dir = TempDir::make("contd-redis");
  if (!dir) {
    return dir.error();
  }
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(*dir)));
  CONTD_RETURN_IF_ERROR(server->launch());
  return server;
}

RedisServer::~RedisServer() {
  if (auto stopped = stop(); !stopped) {
    std::fprintf(stderr, "redis-server: %s\n", stopped.error().message.c_str());
  }
}

Status RedisServer::launch() {
  const std::string log = dir_.string() + "/redis.log";
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    return sysError("open '" + log + "'", errno);
  }
  SpawnOptions spawn;
  spawn.argv = {"redis-server", "--port", "0", "--unixsocket", socketPath(), "--unixsocketperm",
                "700", "--save", "", "--appendonly", "no", "--dir", dir_.string()};
  spawn.stdout_fd = log_fd;
  spawn.stderr_fd = log_fd;
  spawn.parent_death_signal = SIGTERM;
  auto pid = spawnProcess(spawn);
  ::close(log_fd);
  if (!pid) {
    return pid.error();
  }
  pid_ = *pid;
  auto address = zbus::parseBrokerUrl(url());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (zbus::RedisConnection::open(*address, 200ms)) {
      return okStatus();
    }
    std::this_thread::sleep_for(20ms);
  }
  return unavailable("redis-server did not answer on " + socketPath());
}

Status RedisServer::stop() {
  if (pid_ <= 0) {
    return okStatus();
  }
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  pid_ = -1;
  return okStatus();
}

Status RedisServer::restart() {
  CONTD_RETURN_IF_ERROR(stop());
  return launch();
}

}  // namespace contd::testing
