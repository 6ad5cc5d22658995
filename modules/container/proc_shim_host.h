#pragma once
// ShimHost on the real host: finds shims and log drivers by reading /proc, ends a shim's
// leftovers with runc and the file system (see shim_host.h).
//
// A shim is counted when its command line is containerd's shim daemon
// (`containerd-shim-* -namespace <ns> -id <id> -address <containerd socket>`, no action
// argument) and its -address is contd's containerd; its bundle is its working directory.

#include <filesystem>

#include "modules/container/shim_host.h"

namespace contd::container {

class ProcShimHost : public ShimHost {
public:
  // `containerd_address`: the socket contd talks to; `log_shim`: contd-shim-logs;
  // `log_root`: where contd's logs go (its drivers are told so in their arguments).
  ProcShimHost(std::filesystem::path containerd_address, std::filesystem::path log_shim,
               std::filesystem::path log_root, std::filesystem::path proc = "/proc");

  std::vector<HostShim> shims() override;
  std::vector<HostBundle> bundles() override;
  std::vector<HostLogger> loggers() override;
  Status endShim(const HostShim& shim) override;
  void endLogger(const HostLogger& logger) override;
  Status removeBundle(std::string_view ns, std::string_view id,
                      const std::filesystem::path& bundle) override;

private:
  std::filesystem::path address_;
  std::filesystem::path log_shim_;
  std::filesystem::path log_root_;
  std::filesystem::path proc_;
};

}  // namespace contd::container
