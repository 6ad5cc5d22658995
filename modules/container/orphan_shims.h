#pragma once
// Reconcile's last step: the shims and log drivers of contd's containers that belong to no
// task are ended, with their runc state, cgroups, sockets and bundles (shim_host.h says
// why containerd leaves them). A shim counts as contd's when its bundle carries contd's
// spec annotation or contd's log driver names its container; others are left alone.
//
// Each candidate is handled under its container's lock after containerd has been asked
// again, so a Run in flight is never touched: its task exists once it holds no lock.

#include <cstddef>

#include "modules/container/container_store.h"
#include "modules/container/shim_host.h"
#include "modules/container/task_control.h"

namespace contd::container {

// Then the bundles of contd's containers that no shim runs in and no task belongs to are
// removed, as Run would (stale_bundle.h), so the name is clean before the next Run.
//
// Returns how many shims, log drivers and bundles it ended.
std::size_t endOrphans(ShimHost& host, ContainerStore& store, TaskControl& tasks);

}  // namespace contd::container
