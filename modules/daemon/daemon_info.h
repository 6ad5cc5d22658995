#pragma once
// What the Version and Info calls answer about this daemon (api_server/daemon_info.h):
// contd's version, containerd's (asked each time, with a short deadline), the runtime in
// effect with its version (runtime_version.h, read once per runtime), the configuration in
// effect (set again after each reload) and the images containerd holds.
//
// Threads: any; the config is guarded by a mutex.

#include <mutex>
#include <string>

#include "modules/api_server/daemon_info.h"
#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "modules/daemon/config.h"
#include "modules/daemon/runtime_version.h"
#include "modules/images/grpc_image_store.h"

namespace contd::daemon {

class DaemonInfo final : public api::DaemonInfoSource {
public:
  // Every reference must outlive this object.
  DaemonInfo(std::string version, containerd::GrpcClient& client,
             images::GrpcImageStore& images, container::ContainerService& service,
             Config config);

  // The configuration in effect after a reload.
  void setConfig(const Config& config);

  api::VersionFacts versions() override;
  std::string configJson() override;
  Result<std::uint64_t> imageCount() override;

private:
  const std::string version_;
  containerd::GrpcClient& client_;
  images::GrpcImageStore& images_;
  container::ContainerService& service_;
  RuntimeVersions runtime_versions_;
  std::mutex mu_;
  Config config_;  // guarded by mu_
};

}  // namespace contd::daemon
