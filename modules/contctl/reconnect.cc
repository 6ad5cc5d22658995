// followReconnecting: the reconnect loop of events and logs -f.

#include "modules/contctl/reconnect.h"

#include <algorithm>
#include <optional>
#include <string>
#include <thread>

namespace contd::contctl {

bool contdWentAway(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::CANCELLED;
}

Status followReconnecting(const std::function<Client::StreamEnd(bool resumed)>& attempt,
                          const std::function<void()>& before_retry,
                          const ReconnectPolicy& policy, ReconnectClock clock) {
  if (!clock.sleep) {
    clock.sleep = [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); };
  }
  bool ever_established = false;
  bool resumed = false;
  std::optional<std::chrono::steady_clock::time_point> lost_at;
  auto delay = policy.first_delay;
  for (;;) {
    const Client::StreamEnd end = attempt(resumed);
    if (end.established) {
      ever_established = true;
      lost_at.reset();
      delay = policy.first_delay;
    }
    if (!ever_established || !contdWentAway(end.status)) {
      return Client::toStatus(end.status);
    }
    const auto now = clock.now();
    if (!lost_at) {
      lost_at = now;
      std::fputs("contctl: contd restarted, reconnecting\n", clock.notices);
      std::fflush(clock.notices);
    } else if (now - *lost_at >= policy.give_up_after) {
      const auto seconds =
          std::chrono::duration_cast<std::chrono::seconds>(policy.give_up_after).count();
      return makeError(Code::kUnavailable, "UNAVAILABLE: contd did not come back within " +
                                               std::to_string(seconds) +
                                               "s: " + end.status.error_message());
    }
    clock.sleep(delay);
    delay = std::min(delay * 2, policy.max_delay);
    before_retry();
    resumed = true;
  }
}

}  // namespace contd::contctl
