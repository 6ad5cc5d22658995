#include "modules/daemon/daemon_info.h"

#include <chrono>
#include <utility>

namespace contd::daemon {
namespace {

// containerd answers Version at once; a caller (contctl waits 10 s) should not wait long
// for a containerd that hangs.
constexpr std::chrono::milliseconds kContainerdTimeout{3000};

}  // namespace

DaemonInfo::DaemonInfo(std::string version, containerd::GrpcClient& client,
                       images::GrpcImageStore& images, container::ContainerService& service,
                       Config config)
    : version_(std::move(version)),
      client_(client),
      images_(images),
      service_(service),
      config_(std::move(config)) {}

void DaemonInfo::setConfig(const Config& config) {
  std::lock_guard lock(mu_);
  config_ = config;
}

api::VersionFacts DaemonInfo::versions() {
  api::VersionFacts facts;
  facts.version = version_;
  if (auto containerd = client_.versionInfo(kContainerdTimeout); containerd) {
    facts.containerd_version = containerd->version;
    facts.containerd_revision = containerd->revision;
  } else {
    facts.containerd_error = containerd.error().message;
  }
  // The choice in effect: after crun's fallback to runc, runc.
  const auto choice = service_.runtimeChoice();
  facts.runtime = choice.runtime;
  facts.shim_group = std::string(container::shimGroupName(choice.shim_group));
  if (auto runtime = runtime_versions_.of(choice.runtime); runtime) {
    facts.runtime_version = *runtime;
  } else {
    facts.runtime_error = runtime.error().message;
  }
  return facts;
}

std::string DaemonInfo::configJson() {
  std::lock_guard lock(mu_);
  return daemon::configJson(config_, /*hide_secrets=*/true);
}

Result<std::uint64_t> DaemonInfo::imageCount() {
  auto namespaces = client_.listNamespaces();
  if (!namespaces) {
    return namespaces.error();
  }
  std::uint64_t total = 0;
  for (const auto& ns : *namespaces) {
    auto count = images_.countImages(ns);
    if (!count) {
      return count.error();
    }
    total += *count;
  }
  return total;
}

}  // namespace contd::daemon
