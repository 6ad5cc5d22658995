#pragma once
// A ShimHost over lists a test fills in: shims(), bundles() and loggers() return them;
// endShim and endLogger only record the pid; removeBundle records the path and removes it
// with the real removeTaskBundle (tests point it at a temp dir).

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <vector>

#include "modules/container/bundle_removal.h"
#include "modules/container/shim_host.h"

namespace contd::testing {

class FakeShimHost : public container::ShimHost {
public:
  std::vector<container::HostShim> shims() override { return shims_; }
  std::vector<container::HostBundle> bundles() override { return bundles_; }
  std::vector<container::HostLogger> loggers() override { return loggers_; }
  Status endShim(const container::HostShim& shim) override {
    ended_.push_back(shim.pid);
    return okStatus();
  }
  void endLogger(const container::HostLogger& logger) override { ended_.push_back(logger.pid); }
  Status removeBundle(std::string_view ns, std::string_view id,
                      const std::filesystem::path& bundle) override {
    removed_.push_back(bundle);
    return container::removeTaskBundle(ns, id, bundle);
  }

  bool ended(pid_t pid) const { return std::find(ended_.begin(), ended_.end(), pid) != ended_.end(); }

  std::vector<container::HostShim> shims_;
  std::vector<container::HostBundle> bundles_;
  std::vector<container::HostLogger> loggers_;
  std::vector<pid_t> ended_;
  std::vector<std::filesystem::path> removed_;
};

}  // namespace contd::testing
