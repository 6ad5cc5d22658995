#pragma once
// What containerd's runc shims and contd's log drivers leave on the host outside
// containerd's API, and how to end it. containerd 1.6 loses track of a shim when the Run
// that made it is interrupted (contd killed while tasks.Create runs: containerd cancels
// Create after the shim started; containerd killed: the shim outlives the task list). Such
// a shim (about 5 MB) and the log driver it started live on with no task; containerd
// itself only cleans up shims it still knows (runtime/v2 cleanupAfterDeadShim, loadShims).
// The Supervisor finds them through this interface at reconcile.
//
// Thread-safety: every method may be called from any thread.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::container {

struct HostShim {
  pid_t pid = 0;
  std::string ns;
  std::string id;
  // The shim's working directory, its bundle: <state>/io.containerd.runtime.v2.task/<ns>/<id>
  // (empty when containerd removed it already).
  std::filesystem::path bundle;
  // The bundle's config.json carries contd's spec annotation: the shim is contd's.
  bool made_by_contd = false;
  // Its bundle has a whole config.json (containerd writes it last, not atomically: a shim
  // in a bundle without one belongs to a Create that containerd's death interrupted).
  bool has_config = true;
  // A child of it works for another container (shim_children.h): a grouped shim in use.
  bool serves_others = false;
};

// A task bundle dir in containerd's state dir (stale_bundle.h says why one can outlive its
// shim).
struct HostBundle {
  std::string ns;
  std::string id;
  std::filesystem::path path;  // <state>/io.containerd.runtime.v2.task/<ns>/<id>
  bool made_by_contd = false;  // its config.json carries contd's spec annotation
  // containerd writes config.json last, not atomically, when it makes a bundle: one
  // without a whole config.json (missing, empty or cut short) never had a shim
  // (containerd was killed half-way through making it).
  bool has_config = true;
};

struct HostLogger {
  pid_t pid = 0;
  std::string ns;
  std::string id;
  // The driver's `log_root` argument (from contd's log URI): the contd whose logs it
  // writes. Empty when its command line has none.
  std::filesystem::path log_root;
};

class ShimHost {
public:
  virtual ~ShimHost() = default;
  // The runc shims serving contd's containerd (their -address), of every namespace.
  virtual std::vector<HostShim> shims() = 0;
  // The task bundle dirs of contd's containerd, of every namespace; empty when its state
  // dir cannot be found.
  virtual std::vector<HostBundle> bundles() = 0;
  // contd's log drivers (holder and writer) of every container, of this contd's log root.
  virtual std::vector<HostLogger> loggers() = 0;
  // Ends a shim no task belongs to, as containerd ends a dead one and a bit more: SIGKILL,
  // then the shim binary's `delete` (runc delete --force: the container's processes and
  // runc state; the rootfs mount), then its socket, bundle and work dir. Errors name what
  // is left.
  virtual Status endShim(const HostShim& shim) = 0;
  // SIGKILL to a log driver found by loggers().
  virtual void endLogger(const HostLogger& logger) = 0;
  // Removes a bundle <state>/io.containerd.runtime.v2.task/<ns>/<id> no shim runs in
  // (stale_bundle.h; the caller checked that), with its rootfs mount and work dir, as
  // bundle_removal.h's removeTaskBundle does. Errors name what is left.
  virtual Status removeBundle(std::string_view ns, std::string_view id,
                              const std::filesystem::path& bundle) = 0;
};

}  // namespace contd::container
