#pragma once
// Long streams (events, logs -f) that outlive a restart of contd, as podman's do: when a
// stream contd had taken ends with UNAVAILABLE (contd killed, restarted, its socket gone),
// contctl prints "contd restarted, reconnecting" once on stderr and calls again with a
// growing delay (100 ms doubling to 2 s) until contd takes the call again, for at most 60 s
// per outage. A first call that contd never took fails as before (docs/contctl.md).
//
// Threads: one (contctl's main).

#include <chrono>
#include <cstdio>
#include <functional>

#include <grpcpp/support/status.h>

#include "modules/common/result.h"
#include "modules/contctl/client.h"

namespace contd::contctl {

struct ReconnectPolicy {
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds max_delay{2000};
  // How long one outage may last before contctl gives up with contd's last error.
  std::chrono::milliseconds give_up_after{60'000};
};

// What the loop needs from the world, replaceable in tests.
struct ReconnectClock {
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
  std::function<void(std::chrono::milliseconds)> sleep;  // default: this thread sleeps
  std::FILE* notices = stderr;
};

// Whether a stream's end means contd went away: UNAVAILABLE (the connection broke, or
// nothing listens yet) or CANCELLED by the server (it shut down under the call).
bool contdWentAway(const grpc::Status& status);

// Calls `attempt` (which is passed whether this is a call after a loss) until a call ends
// for another reason than contd going away, or an outage outlasts the policy; `before_retry`
// runs before each new call (a new channel). Returns that end as contctl's Status
// (Client::toStatus); an outage given up on is "UNAVAILABLE: contd did not come back
// within 60s: <last error>".
Status followReconnecting(const std::function<Client::StreamEnd(bool resumed)>& attempt,
                          const std::function<void()>& before_retry,
                          const ReconnectPolicy& policy = {}, ReconnectClock clock = {});

}  // namespace contd::contctl
