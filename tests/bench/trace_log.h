#pragma once
// Timings read back from contd's log, for the lifecycle benchmark. contd writes, per call
// (see modules/container/service.cc and task_control.cc, modules/containerd/grpc_connection.cc,
// modules/api_server/containers_api.cc), at debug level unless noted:
//
//   ... debug [container] run step=create-container ns=N id=I ms=1.9   (cumulative in the call)
//   ... info  [container] started ns=N id=I pid=P ms=49.0
//   ... debug [container] delete step=sigterm ns=N id=I exited=true ms=6.1
//   ... info  [container] deleted ns=N id=I ms=30.2
//   ... debug [containerd] op=tasks.Create ns=N id=I ms=38.12 code=ok  (one containerd RPC)
//   ... info  [api] call op=Run ns=N id=I peer_uid=0 peer_pid=P code=OK ms=50.3  (whole call)
//
// Threading: plain functions; no shared state.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace contd::bench {

// One timed line of contd's log.
struct TimedLine {
  std::string id;   // the container (id=)
  std::string key;  // what was timed, see parseTimedLines
  double ms = 0;
};

// The timed lines of `log_text` whose ns= is `ns` and whose id= starts with `id_prefix`, in
// log order, keyed as
//   "container: run create-container", "container: started", "container: deleted", ...
//       (the words before the first key=value, plus the step= value)
//   "containerd: tasks.Create", "containerd: containers.Get (not found)", ...
//       (the op= value, plus the code= value when it is not ok)
//   "api: Run", "api: Delete", ...  (the op= value)
// Lines without ms=, of other namespaces or ids, or not in that layout are skipped.
std::vector<TimedLine> parseTimedLines(std::string_view log_text, std::string_view ns,
                                       std::string_view id_prefix);

// Step key -> its ms= values, in log order.
using StepSamples = std::map<std::string, std::vector<double>, std::less<>>;

// parseTimedLines grouped by key.
StepSamples parseStepTimings(std::string_view log_text, std::string_view ns,
                             std::string_view id_prefix);

}  // namespace contd::bench
