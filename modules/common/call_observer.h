#pragma once
// Hook points for metrics: the places that already time calls (the API server's per-call
// log line, the containerd call layer's round-trip log line, image pulls) report them here.
// Nothing is counted unless the daemon installs an observer (modules/daemon/node_metrics.h),
// so no module depends on the metrics module.
//
// Thread-safety: report from any thread. install() before the reporting threads start; the
// observer must outlive every report (the daemon keeps it for the process's life).

#include <cstdint>
#include <string_view>

namespace contd::observe {

class CallObserver {
public:
  virtual ~CallObserver() = default;
  // One API call (gRPC method name, gRPC code name such as "OK") and its duration.
  virtual void apiCall(std::string_view method, std::string_view code, double seconds) = 0;
  // One round trip to containerd ("tasks.Create", code "ok" or contd's code name).
  virtual void containerdCall(std::string_view op, std::string_view code, double seconds) = 0;
  // One image pull that ended: the bytes it fetched, how long it took, whether it worked.
  virtual void imagePull(std::uint64_t bytes, double seconds, bool ok) = 0;
};

// Installs `observer` (nullptr: none). Not thread-safe against reports in flight.
void install(CallObserver* observer);

void apiCall(std::string_view method, std::string_view code, double seconds);
void containerdCall(std::string_view op, std::string_view code, double seconds);
void imagePull(std::uint64_t bytes, double seconds, bool ok);

}  // namespace contd::observe
