#pragma once
// When a container that exited on its own is started again, and when contd gives up.
//
// Every exit that nobody asked for counts as a failure. The n-th failure within `window`
// (n = 1, 2, ...) is retried after initial_delay * 2^(n-1), capped at max_delay; once more
// than max_failures fall within the window, the container is marked failed and left alone.
// Pure: no clock, no I/O.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "modules/container/lifecycle_labels.h"

namespace contd::container {

struct RestartPolicy {
  std::chrono::milliseconds initial_delay{1000};
  std::chrono::milliseconds max_delay{60'000};
  std::uint32_t max_failures = 5;
  std::chrono::milliseconds window{300'000};
};

// The number of exits in `exits` at or after `now - window`.
std::uint32_t failuresInWindow(const RestartPolicy& policy, const std::vector<Termination>& exits,
                               std::int64_t now_unix_nanos);

// The delay before the next restart, or nullopt when the policy gives up.
std::optional<std::chrono::milliseconds> nextRestartDelay(const RestartPolicy& policy,
                                                          std::uint32_t failures_in_window);

}  // namespace contd::container
