#pragma once
// A redis-server of the test's own, for the zbus tests: listening only on a unix socket in
// a fresh temp dir (no TCP port, no persistence), started and stopped by its pid.
//
//   <temp dir>/redis.sock   the socket (url() gives "unix://<dir>/redis.sock")
//   <temp dir>/redis.log    its output
//
// Threading: one owner.

#include <sys/types.h>

#include <memory>
#include <string>

#include "modules/common/result.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::testing {

class RedisServer {
public:
  // Errors: kNotFound without redis-server on PATH; kUnavailable when it does not answer
  // PING within 10 s.
  static Result<std::unique_ptr<RedisServer>> start();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::string socketPath() const { return dir_.string() + "/redis.sock"; }
  std::string url() const { return "unix://" + socketPath(); }
  pid_t pid() const { return pid_; }

  // SIGTERM, then SIGKILL after 5 s; reaps it. Idempotent.
  Status stop();
  // Starts it again on the same socket.
  Status restart();

private:
  explicit RedisServer(TempDir dir) : dir_(std::move(dir)) {}
  Status launch();

  TempDir dir_;
  pid_t pid_ = -1;
};

}  // namespace contd::testing
