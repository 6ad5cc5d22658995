#pragma once
// contctl events and contctl logs: printed as they come, and with -f (events always)
// reconnecting when contd restarts (reconnect.h); logs -f resumes after the last line it
// received, so no line is printed twice or skipped (docs/contctl.md says what is promised).

#include <cstddef>
#include <cstdint>

#include "contd/v1/containers.pb.h"
#include "modules/contctl/args.h"
#include "modules/contctl/client.h"

namespace contd::contctl {

// Where a resumed Logs call picks up: the time of the last line received and how many
// lines with exactly that time were received (they come again, first, and are dropped).
class LogResume {
public:
  // The request for a call after a loss: `first` when no line came yet (the same call
  // again), else every line since the last one's time (tail 0).
  v1::LogsRequest next(const v1::LogsRequest& first) const;
  // Called for each line a call delivers; false when the line was received before
  // (a repeat at the resume point) and must not be printed.
  bool fresh(const v1::LogLine& line);
  // Called before each resumed call: the repeats it will send start again.
  void resume() { to_skip_ = at_last_; }

private:
  std::int64_t last_ns_ = 0;  // 0: no timed line yet
  std::size_t at_last_ = 0;
  std::size_t to_skip_ = 0;
  bool any_ = false;
};

int eventsCommand(Client& client, const Invocation& inv);
int logsCommand(Client& client, const Invocation& inv);

}  // namespace contd::contctl
