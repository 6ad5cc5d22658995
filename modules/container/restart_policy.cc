#include "modules/container/restart_policy.h"

#include <algorithm>

namespace contd::container {

std::uint32_t failuresInWindow(const RestartPolicy& policy, const std::vector<Termination>& exits,
                               std::int64_t now_unix_nanos) {
  const std::int64_t since =
      now_unix_nanos - std::chrono::duration_cast<std::chrono::nanoseconds>(policy.window).count();
  return static_cast<std::uint32_t>(
      std::count_if(exits.begin(), exits.end(), [&](const Termination& t) { return t.time >= since; }));
}

std::optional<std::chrono::milliseconds> nextRestartDelay(const RestartPolicy& policy,
                                                          std::uint32_t failures_in_window) {
  if (failures_in_window > policy.max_failures) {
    return std::nullopt;
  }
  auto delay = policy.initial_delay;
  for (std::uint32_t i = 1; i < failures_in_window && delay < policy.max_delay; ++i) {
    delay *= 2;
  }
  return std::min(delay, policy.max_delay);
}

}  // namespace contd::container
