// Version and Info: contd about itself (api/contd/v1/info.proto). The daemon's facts come
// from the DaemonInfoSource it gave the server; the counts from the container module.

#include <set>
#include <string>

#include "modules/api_server/containers_api.h"
#include "modules/api_server/containers_api_serve.h"

namespace contd::api {
namespace {

void toProto(const VersionFacts& facts, v1::VersionResponse* out) {
  out->set_version(facts.version);
  out->set_containerd_version(facts.containerd_version);
  out->set_containerd_revision(facts.containerd_revision);
  out->set_containerd_error(facts.containerd_error);
  out->set_runtime(facts.runtime);
  out->set_runtime_version(facts.runtime_version);
  out->set_runtime_error(facts.runtime_error);
  out->set_shim_group(facts.shim_group);
}

void count(container::ContainerStatus status, v1::ContainerCounts* counts) {
  counts->set_total(counts->total() + 1);
  switch (status) {
    case container::ContainerStatus::kCreated: counts->set_created(counts->created() + 1); break;
    case container::ContainerStatus::kRunning: counts->set_running(counts->running() + 1); break;
    case container::ContainerStatus::kStopped: counts->set_stopped(counts->stopped() + 1); break;
    case container::ContainerStatus::kBackingOff:
      counts->set_backing_off(counts->backing_off() + 1);
      break;
    case container::ContainerStatus::kFailed: counts->set_failed(counts->failed() + 1); break;
    case container::ContainerStatus::kUnknown: counts->set_unknown(counts->unknown() + 1); break;
  }
}

Status noSource() {
  return failedPrecondition("version and info: this server was started without the daemon's "
                            "facts");
}

}  // namespace

grpc::Status ContainersApi::Version(grpc::ServerContext* context,
                                    const v1::VersionRequest* /*request*/,
                                    v1::VersionResponse* response) {
  return serve(context, "Version", "", "", [&]() -> Status {
    if (info_ == nullptr) {
      return noSource();
    }
    toProto(info_->versions(), response);
    return okStatus();
  });
}

grpc::Status ContainersApi::Info(grpc::ServerContext* context, const v1::InfoRequest* /*request*/,
                                 v1::InfoResponse* response) {
  return serve(context, "Info", "", "", [&]() -> Status {
    if (info_ == nullptr) {
      return noSource();
    }
    auto containers = core_.list("");
    if (!containers) {
      return containers.error().wrap("count containers");
    }
    auto images = info_->imageCount();
    if (!images) {
      return images.error().wrap("count images");
    }
    std::set<std::string> namespaces;
    for (const auto& container : *containers) {
      count(container.status, response->mutable_containers());
      namespaces.insert(container.ns);
    }
    response->set_namespaces(static_cast<std::uint32_t>(namespaces.size()));
    response->set_images(static_cast<std::uint32_t>(*images));
    toProto(info_->versions(), response->mutable_version());
    response->set_config_json(info_->configJson());
    return okStatus();
  });
}

}  // namespace contd::api
