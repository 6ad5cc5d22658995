#pragma once
// What contd remembers about a container's life, kept in containerd's record as labels so
// that it survives restarts of contd (the keys: modules/common/record_schema.h):
//
//   io.contd.exits = JSON array, oldest first, at most kMaxExits:
//                    [{"t": <unix nanos>, "code": <exit code or -1>, "oom": true|false,
//                      "unhealthy": true (only when it is)}]
//
// containerd limits a label to 4 KiB; kMaxExits entries stay far below that.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/common/record_schema.h"
#include "modules/container/container_spec.h"
#include "modules/containerd/client.h"

namespace contd::container {

inline constexpr std::size_t kMaxExits = 10;

// kNone: running, or about to be judged. kBackingOff: a restart is due at next_retry.
// kFailed: the policy gave up. kStopped: at rest (Stop, or an exit the container's restart
// mode does not restart); its task is gone, Start runs it again.
enum class PolicyState { kNone, kBackingOff, kFailed, kStopped };

struct Lifecycle {
  bool stopping = false;
  PolicyState state = PolicyState::kNone;
  std::int64_t next_retry = 0;  // unix nanos, with kBackingOff
  std::uint32_t restarts = 0;  // since Run or the last Start
  std::vector<Termination> exits;  // oldest first
  // The health monitor is ending the process because its health check failed: the next
  // exit recorded (addExit) is marked unhealthy, which the restart policy counts as a failure.
  bool health_kill = false;

  bool operator==(const Lifecycle&) const = default;
};

// Reads the labels; a malformed label is read as absent (it is contd's own data, and a
// broken one must not stop the container from being managed).
Lifecycle lifecycleFrom(const containerd::Labels& labels);

// The labels that store `lifecycle`; absent values are given as "" so that setLabels
// removes them.
containerd::Labels lifecycleLabels(const Lifecycle& lifecycle);

// Appends an exit, keeping at most kMaxExits (the oldest go first). With health_kill, the
// exit is marked unhealthy and the mark is cleared.
void addExit(Lifecycle& lifecycle, const Termination& exit);

}  // namespace contd::container
