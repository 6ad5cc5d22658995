#include "modules/container/orphan_shims.h"

#include <map>
#include <utility>
#include <vector>

#include "modules/common/logging.h"
#include "modules/common/names.h"
#include "modules/container/cgroups.h"
#include "modules/container/stale_bundle.h"

namespace contd::container {
namespace {

struct Leftovers {
  std::vector<HostShim> shims;
  std::vector<HostLogger> loggers;
  bool contds() const {
    if (!loggers.empty()) {
      return true;
    }
    for (const auto& shim : shims) {
      if (shim.made_by_contd) {
        return true;
      }
    }
    return false;
  }
  bool servesOthers() const {
    for (const auto& shim : shims) {
      if (shim.serves_others) {
        return true;
      }
    }
    return false;
  }
  // A shim in a bundle containerd never finished (no whole config.json): its Create was cut
  // off.
  bool unfinished() const {
    for (const auto& shim : shims) {
      if (!shim.has_config && !shim.bundle.empty()) {
        return true;
      }
    }
    return false;
  }
};

std::size_t endLeftovers(ShimHost& host, const std::string& ns, const std::string& id,
                         const Leftovers& found) {
  const auto log = log::container();
  std::size_t ended = 0;
  for (const auto& shim : found.shims) {
    log->warn("ending orphan shim ns={} id={} pid={} bundle={}", ns, id, shim.pid,
              shim.bundle.string());
    if (auto done = host.endShim(shim); !done) {
      log->error("orphan shim ns={} id={} error=\"{}\"", ns, id, done.error().message);
    }
    ++ended;
  }
  for (const auto& logger : found.loggers) {
    log->warn("ending orphan log driver ns={} id={} pid={}", ns, id, logger.pid);
    host.endLogger(logger);
    ++ended;
  }
  return ended;
}

// Whether `bundle` is contd's to remove: marked by contd's annotation, or never finished
// (no whole config.json) under a name containerd has no record of or a record of contd's
// (no task can be made for a name without a record, and contd's own Runs of it wait on its
// lock).
bool contdsToRemove(ContainerStore& store, const HostBundle& bundle) {
  if (bundle.made_by_contd) {
    return true;
  }
  if (bundle.has_config) {
    return false;
  }
  auto owned = store.freeOrManaged(bundle.ns, bundle.id);
  return owned && *owned;
}

// contd's bundles no shim runs in and no task belongs to (stale_bundle.h), removed.
std::size_t removeStaleBundles(ShimHost& host, ContainerStore& store, TaskControl& tasks,
                               const std::map<std::pair<std::string, std::string>, Leftovers>& live) {
  std::size_t removed = 0;
  for (const auto& bundle : host.bundles()) {
    const auto log = log::container();
    auto found = live.find({bundle.ns, bundle.id});
    if (found != live.end() && !found->second.shims.empty()) {
      log->debug("bundle kept ns={} id={} reason=shim", bundle.ns, bundle.id);
      continue;
    }
    if (!validateName("namespace", bundle.ns) || !validateName("id", bundle.id)) {
      continue;  // not a name contd could have made
    }
    auto guard = store.lock(bundle.ns, bundle.id);
    if (!contdsToRemove(store, bundle)) {
      log->debug("bundle kept ns={} id={} reason=not-contds made_by_contd={} has_config={}",
                 bundle.ns, bundle.id, bundle.made_by_contd, bundle.has_config);
      continue;
    }
    auto task = tasks.state(bundle.ns, bundle.id);
    if (!task) {
      log->info("stale bundle kept for now ns={} id={} error=\"{}\"", bundle.ns, bundle.id,
                task.error().message);
      continue;  // containerd cannot say: the recheck after the reconcile looks again
    }
    if (*task) {
      log->debug("bundle kept ns={} id={} reason=task", bundle.ns, bundle.id);
      continue;  // a task's bundle
    }
    if (auto cleared = clearStaleBundle(host, bundle.ns, bundle.id, bundle.path); !cleared) {
      log->error("stale bundle ns={} id={} error=\"{}\"", bundle.ns, bundle.id,
                 cleared.error().message);
      continue;
    }
    ++removed;
  }
  return removed;
}

}  // namespace

std::size_t endOrphans(ShimHost& host, ContainerStore& store, TaskControl& tasks) {
  std::map<std::pair<std::string, std::string>, Leftovers> by_container;
  for (auto& shim : host.shims()) {
    by_container[{shim.ns, shim.id}].shims.push_back(std::move(shim));
  }
  for (auto& logger : host.loggers()) {
    by_container[{logger.ns, logger.id}].loggers.push_back(std::move(logger));
  }
  std::size_t ended = 0;
  for (const auto& [key, found] : by_container) {
    const auto& [ns, id] = key;
    const bool marked = found.contds();
    if (!marked && !found.unfinished()) {
      continue;
    }
    Leftovers ending = found;
    if (found.servesOthers()) {
      // A grouped shim whose first container is gone or was never made: the others' shim.
      log::container()->debug("shim kept ns={} id={} reason=serves-others", ns, id);
      ending.shims.clear();
    }
    auto guard = store.lock(ns, id);
    if (!marked) {
      // Unmarked, it is contd's by the rule for unfinished bundles (contdsToRemove).
      auto owned = store.freeOrManaged(ns, id);
      if (!owned || !*owned) {
        continue;
      }
    }
    auto task = tasks.state(ns, id);
    if (!task) {
      log::container()->warn("orphan check ns={} id={} error=\"{}\"", ns, id,
                             task.error().message);
      continue;  // the next reconcile tries again
    }
    if (*task) {
      continue;  // the task's own shim and log driver
    }
    ended += endLeftovers(host, ns, id, ending);
    tasks.removeEmptyCgroups(ns, id);
  }
  return ended + removeStaleBundles(host, store, tasks, by_container);
}

}  // namespace contd::container
