#include "modules/zbus/bridge.h"

#include "modules/zbus/container_module.h"
#include "modules/zbus/dispatcher.h"
#include "modules/zbus/server.h"
#include "modules/zbus/service_backend.h"

namespace contd::zbus {

Bridge::Bridge() = default;

Bridge::~Bridge() { stop(); }

Result<std::unique_ptr<Bridge>> Bridge::start(container::ContainerService& service,
                                              const BridgeOptions& options) {
  std::unique_ptr<Bridge> bridge(new Bridge());
  bridge->backend_ = std::make_unique<ServiceBackend>(service);
  bridge->module_ = std::make_unique<ContainerModule>(*bridge->backend_);
  bridge->dispatcher_ = std::make_unique<Dispatcher>(*bridge->module_);
  ServerOptions server_options;
  server_options.broker = options.broker;
  server_options.workers = options.workers;
  auto server = Server::start(server_options, *bridge->dispatcher_);
  if (!server) {
    return server.error();
  }
  bridge->server_ = std::move(*server);
  return bridge;
}

void Bridge::stop() {
  if (server_) {
    server_->stop();
  }
}

}  // namespace contd::zbus
