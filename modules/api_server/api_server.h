#pragma once
// contd's native API, served: a gRPC server with every contd.v1 service, fed by a
// UnixListener that records each caller's credentials. The daemon makes one at start and
// stops it on SIGTERM; containers are not touched either way.
//
// Threads: start() and stop() from the daemon's main thread; calls are served on gRPC's
// thread pool.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include "modules/api_server/daemon_info.h"
#include "modules/api_server/unix_listener.h"
#include "modules/common/result.h"
#include "modules/container/service.h"

namespace grpc {
class Server;
}

namespace contd::api {

class ContainersApi;

struct ApiServerOptions {
  UnixListenerOptions listener;
  // An already-listening socket to serve on instead of binding listener.path (systemd
  // socket activation). The server takes ownership.
  std::optional<int> listen_fd;
  // What Version and Info answer about the daemon (daemon_info.h); it must outlive the
  // server. nullptr: those calls answer FAILED_PRECONDITION.
  DaemonInfoSource* info = nullptr;
};

class ApiServer {
public:
  // Binds (or adopts) the socket, builds the gRPC server and starts accepting. `core` must
  // outlive the ApiServer. Errors are the listener's (unix_listener.h), or kInternal when
  // gRPC cannot build the server.
  static Result<std::unique_ptr<ApiServer>> start(container::ContainerService& core,
                                                  ApiServerOptions options);
  ~ApiServer();  // stop() with a 5 s grace
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Stops accepting connections, lets calls in flight finish for up to `grace`, then
  // cancels them; returns when every handler has returned (a handler deep in a containerd
  // call returns when that call does). Idempotent.
  void stop(std::chrono::milliseconds grace);

  // The grpc.health.v1 status of the server ("") and of contd.v1.Containers: SERVING or
  // NOT_SERVING. The daemon sets it from its containerd probe. Any thread.
  void setServing(bool serving);
  static constexpr std::string_view kContainersServiceName = "contd.v1.Containers";

  const std::filesystem::path& socketPath() const { return listener_->path(); }

private:
  ApiServer() = default;

  std::unique_ptr<UnixListener> listener_;
  std::unique_ptr<ContainersApi> containers_;
  std::unique_ptr<grpc::Server> server_;  // declared last: destroyed before the services
  bool stopped_ = false;
  std::atomic<bool> serving_{true};  // what was logged last (starts "changed" to false)
};

}  // namespace contd::api
