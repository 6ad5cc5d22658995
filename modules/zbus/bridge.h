#pragma once
// The zbus bridge as the daemon sees it: the container core served to the node's Go
// modules over zbus (module "container", object container@0.0.1, status container.zbus@1.0).
// Owns the adapter over ContainerService, the zosbase-semantics module, the dispatcher and
// the Redis server loop.
//
// Threading: start() and stop() from the daemon's main thread.

#include <cstddef>
#include <memory>
#include <string>

#include "modules/common/result.h"
#include "modules/container/service.h"

namespace contd::zbus {

class ServiceBackend;
class ContainerModule;
class Dispatcher;
class Server;

struct BridgeOptions {
  std::string broker;       // zbus URL: unix:///var/run/redis.sock, tcp://host:port
  std::size_t workers = 4;  // calls served at once
};

class Bridge {
public:
  // Starts serving; Redis need not be up yet (the bridge connects when it is).
  // Errors (kInvalidArgument): a bad broker URL, zero workers.
  static Result<std::unique_ptr<Bridge>> start(container::ContainerService& service,
                                               const BridgeOptions& options);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Stops taking calls and waits for running ones to reply. Idempotent.
  void stop();

private:
  Bridge();

  std::unique_ptr<ServiceBackend> backend_;
  std::unique_ptr<ContainerModule> module_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Server> server_;
};

}  // namespace contd::zbus
