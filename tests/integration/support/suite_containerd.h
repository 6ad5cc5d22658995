#pragma once
// What every integration fixture family starts once per test suite (in SetUpTestSuite): a
// private containerd and, for fixtures whose containers run from a host directory, the
// busybox rootfs. One place, so that every family starts them the same way.

#include <memory>
#include <optional>
#include <string>

#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/private_containerd.h"

namespace contd::testing {

// Starts `containerd` and, when `rootfs` is not null, builds the rootfs into it. Returns
// what failed (each test of the suite then fails with it), or "" when everything is up.
inline std::string startSuiteContainerd(std::unique_ptr<PrivateContainerd>& containerd,
                                        std::optional<BusyboxRootfs>* rootfs) {
  auto started = PrivateContainerd::start();
  if (!started) {
    return started.error().message;
  }
  containerd = std::move(*started);
  if (rootfs != nullptr) {
    auto built = BusyboxRootfs::build();
    if (!built) {
      return built.error().message;
    }
    rootfs->emplace(std::move(*built));
  }
  return "";
}

}  // namespace contd::testing
