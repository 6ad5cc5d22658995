#pragma once
// What contd counts for a node's monitoring (docs/metrics.md), and how it serves it: the
// textfile of config key metrics_textfile and the /metrics listener of metrics_listen.
//
// Sources: the call hooks (modules/common/call_observer.h: API calls, containerd round
// trips, pulls), the container module's events (exits, OOM kills, restarts, gave-ups), and
// a refresh every few seconds (containers by state, log disk use).
//
// Threads: the hooks report from any thread; an event thread and the refresher's thread run
// between start() and stop(); the listener has its own. Construct it before the containerd
// client (it is installed as the call observer), stop() it before the service goes.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "modules/common/call_observer.h"
#include "modules/common/result.h"
#include "modules/container/service.h"
#include "modules/metrics/http_listener.h"
#include "modules/metrics/registry.h"
#include "modules/metrics/textfile.h"

namespace contd::daemon {

class NodeMetrics : public observe::CallObserver {
public:
  struct Options {
    std::string version;
    std::string log_root;
    std::string textfile;  // "" for none
    std::string listen;    // "" for none; else as metrics::parseListenAddress takes it
  };
  // Registers every metric and installs itself as the call observer.
  explicit NodeMetrics(Options options);
  ~NodeMetrics() override;  // stop(), and uninstalls itself
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;

  // Counts the service's events from now on, writes the textfile and opens the listener
  // as configured. Errors: the listener's, prefixed with the config key.
  Status start(container::ContainerService& service);
  // Closes the listener, stops counting events, writes the textfile a last time.
  void stop();

  void apiCall(std::string_view method, std::string_view code, double seconds) override;
  void containerdCall(std::string_view op, std::string_view code, double seconds) override;
  void imagePull(std::uint64_t bytes, double seconds, bool ok) override;

  std::string exposition() const { return registry_.exposition(); }

private:
  void refresh();
  void countEvents(std::shared_ptr<container::EventBus::Listener> listener);

  Options options_;
  metrics::Registry registry_;
  metrics::Family<metrics::Counter>& api_calls_;
  metrics::Family<metrics::Histogram>& api_seconds_;
  metrics::Family<metrics::Counter>& containerd_calls_;
  metrics::Family<metrics::Histogram>& containerd_seconds_;
  metrics::Family<metrics::Counter>& pulls_;
  metrics::Family<metrics::Counter>& pull_bytes_;
  metrics::Family<metrics::Histogram>& pull_seconds_;
  metrics::Family<metrics::Counter>& exits_;
  metrics::Family<metrics::Counter>& ooms_;
  metrics::Family<metrics::Counter>& restarts_;
  metrics::Family<metrics::Counter>& gave_ups_;
  metrics::Family<metrics::Counter>& events_dropped_;
  metrics::Family<metrics::Gauge>& containers_;
  metrics::Family<metrics::Gauge>& containerd_up_;
  metrics::Family<metrics::Gauge>& log_disk_;
  metrics::Family<metrics::Gauge>& log_retained_disk_;
  metrics::Family<metrics::Gauge>& log_dropped_bytes_;
  metrics::Family<metrics::Gauge>& log_dropped_records_;
  metrics::Family<metrics::Gauge>& log_writer_restarts_;

  container::ContainerService* service_ = nullptr;
  std::shared_ptr<container::EventBus::Listener> listener_;
  std::atomic<bool> stopping_{false};
  std::thread event_thread_;
  std::unique_ptr<metrics::Refresher> refresher_;
  std::unique_ptr<metrics::HttpListener> http_;
};

}  // namespace contd::daemon
