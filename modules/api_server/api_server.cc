#include "modules/api_server/api_server.h"

#include <grpcpp/server.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include "modules/api_server/containers_api.h"
#include "modules/common/logging.h"

namespace contd::api {

Result<std::unique_ptr<ApiServer>> ApiServer::start(container::ContainerService& core,
                                                    ApiServerOptions options) {
  std::unique_ptr<ApiServer> api(new ApiServer());

  // The socket first: a taken path or an unknown group is the likeliest failure, and it
  // should be reported before anything else is built.
  auto listener = options.listen_fd ? UnixListener::fromFd(*options.listen_fd)
                                    : UnixListener::bindPath(options.listener);
  if (!listener) {
    return listener.error();
  }
  api->listener_ = std::move(listener).value();
  api->containers_ = std::make_unique<ContainersApi>(core, api->listener_->peers(), options.info);

  // No listening port: connections arrive only through the listener's accept loop, which
  // is what lets it record who is calling.
  // grpc.health.v1.Health (NOT_SERVING until setServing(true)) and server reflection
  // (grpc.reflection.v1alpha), both for the builder made next.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.RegisterService(api->containers_.get());
  api->server_ = builder.BuildAndStart();
  if (!api->server_) {
    return internalError("start gRPC server: BuildAndStart failed");
  }
  api->setServing(false);
  CONTD_RETURN_IF_ERROR(api->listener_->start(*api->server_));
  return api;
}

void ApiServer::setServing(bool serving) {
  auto* health = server_ ? server_->GetHealthCheckService() : nullptr;
  if (health == nullptr) {
    return;
  }
  health->SetServingStatus("", serving);
  health->SetServingStatus(std::string(kContainersServiceName), serving);
  if (serving_.exchange(serving) != serving) {
    log::api()->info("op=health serving={}", serving);
  }
}

ApiServer::~ApiServer() { stop(std::chrono::seconds(5)); }

void ApiServer::stop(std::chrono::milliseconds grace) {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (listener_) {
    listener_->stop();  // first: no connection may be added to a server shutting down
  }
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
    log::api()->info("API server stopped");
  }
}

}  // namespace contd::api
