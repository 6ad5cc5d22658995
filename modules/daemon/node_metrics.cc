#include "modules/daemon/node_metrics.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "modules/common/logging.h"

namespace contd::daemon {
namespace {

using metrics::latencyBuckets;

constexpr std::chrono::milliseconds kRefreshInterval{5000};
constexpr std::chrono::milliseconds kEventWait{500};

constexpr container::ContainerStatus kStates[] = {
    container::ContainerStatus::kUnknown,    container::ContainerStatus::kCreated,
    container::ContainerStatus::kRunning,    container::ContainerStatus::kStopped,
    container::ContainerStatus::kBackingOff, container::ContainerStatus::kFailed,
};

// What one walk of log_root finds: the disk space its files take (allocated blocks), and
// the sums of what the log drivers report in their health files (shim/health.h).
struct LogScan {
  std::uint64_t disk_bytes = 0;
  std::uint64_t retained_disk_bytes = 0;  // of deleted containers: <ns>/deleted/<folder>/*
  std::uint64_t dropped_bytes = 0;
  std::uint64_t dropped_records = 0;
  std::uint64_t writer_restarts = 0;
};

// The unsigned number after "\"<key>\":" in a health file's line; 0 when absent.
std::uint64_t healthNumber(const std::string& line, const std::string& key) {
  const auto at = line.find("\"" + key + "\":");
  return at == std::string::npos ? 0
                                 : std::strtoull(line.c_str() + at + key.size() + 3, nullptr, 10);
}

LogScan scanLogs(const std::string& root) {
  LogScan scan;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(
           root, std::filesystem::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) {
      continue;
    }
    const auto blocks = static_cast<std::uint64_t>(st.st_blocks) * 512;
    // A kept log's folder counts with its files, as log retention counts it (retired_logs.h).
    if (S_ISDIR(st.st_mode) && it.depth() == 2 &&
        it->path().parent_path().filename() == "deleted") {
      scan.disk_bytes += blocks;
      scan.retained_disk_bytes += blocks;
    }
    if (!S_ISREG(st.st_mode)) {
      continue;
    }
    scan.disk_bytes += blocks;
    if (it.depth() == 3 && it->path().parent_path().parent_path().filename() == "deleted") {
      scan.retained_disk_bytes += blocks;
    }
    const std::string name = it->path().filename().string();
    if (name.starts_with(".") && name.ends_with(".log.health") && st.st_size < 4096) {
      std::string line;
      std::getline(std::ifstream(it->path()), line);
      scan.dropped_bytes += healthNumber(line, "dropped_bytes");
      scan.dropped_records += healthNumber(line, "dropped_records");
      scan.writer_restarts += healthNumber(line, "writer_restarts");
    }
  }
  return scan;
}

}  // namespace

NodeMetrics::NodeMetrics(Options options)
    : options_(std::move(options)),
      api_calls_(registry_.counter("contd_api_calls_total",
                                   "gRPC API calls contd answered, by method and gRPC code",
                                   {"method", "code"})),
      api_seconds_(registry_.histogram("contd_api_call_duration_seconds",
                                       "Duration of gRPC API calls, by method", {"method"},
                                       latencyBuckets())),
      containerd_calls_(registry_.counter(
          "contd_containerd_requests_total",
          "Round trips to containerd, by operation and code (ok, or the error's code)",
          {"op", "code"})),
      containerd_seconds_(registry_.histogram("contd_containerd_request_duration_seconds",
                                              "Duration of round trips to containerd, by operation",
                                              {"op"}, latencyBuckets())),
      pulls_(registry_.counter("contd_image_pulls_total", "Image pulls that ended, by result",
                               {"result"})),
      pull_bytes_(registry_.counter(
          "contd_image_pull_bytes_total",
          "Stored (compressed) size of the images pulled successfully, layers already present "
          "included")),
      pull_seconds_(registry_.histogram("contd_image_pull_duration_seconds",
                                        "Duration of image pulls, by result", {"result"},
                                        {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600})),
      exits_(registry_.counter("contd_container_exits_total",
                               "Container processes that ended, by namespace", {"namespace"})),
      ooms_(registry_.counter("contd_container_oom_kills_total",
                              "Containers the kernel's OOM killer hit, by namespace",
                              {"namespace"})),
      restarts_(registry_.counter("contd_container_restarts_total",
                                  "Containers the restart policy started again, by namespace",
                                  {"namespace"})),
      gave_ups_(registry_.counter(
          "contd_container_gave_ups_total",
          "Containers the restart policy gave up on (marked failed), by namespace",
          {"namespace"})),
      events_dropped_(registry_.counter(
          "contd_metrics_events_dropped_total",
          "Container events the metrics missed because they fell behind (counts are low then)")),
      containers_(registry_.gauge("contd_containers", "Containers contd manages, by state",
                                  {"state"})),
      containerd_up_(registry_.gauge(
          "contd_containerd_up", "1 when containerd answered the last refresh, else 0")),
      log_disk_(registry_.gauge("contd_log_disk_bytes",
                                "Disk space the container logs under log_root take")),
      log_retained_disk_(registry_.gauge(
          "contd_log_retained_disk_bytes",
          "Disk space the kept logs of deleted containers take (part of contd_log_disk_bytes)")),
      log_dropped_bytes_(registry_.gauge(
          "contd_log_dropped_bytes",
          "Log bytes the drop policy dropped, summed over the containers whose logs exist")),
      log_dropped_records_(registry_.gauge(
          "contd_log_dropped_records",
          "Log records the drop policy dropped, summed over the containers whose logs exist")),
      log_writer_restarts_(registry_.gauge(
          "contd_log_writer_restarts",
          "Log writer restarts, summed over the containers whose logs exist")) {
  registry_.gauge("contd_build_info", "Always 1; the version of contd in a label", {"version"})
      .with({options_.version})
      .set(1);
  registry_.gauge("contd_start_time_seconds", "When contd started, in seconds since the epoch")
      .with()
      .set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
               .count());
  for (const auto state : kStates) {
    containers_.with({container::containerStatusName(state)});
  }
  observe::install(this);
}

NodeMetrics::~NodeMetrics() {
  stop();
  observe::install(nullptr);
}

Status NodeMetrics::start(container::ContainerService& service) {
  service_ = &service;
  listener_ = service.events().listen();
  event_thread_ = std::thread([this, listener = listener_] { countEvents(listener); });
  refresher_ = std::make_unique<metrics::Refresher>(
      metrics::Refresher::Options{.textfile = options_.textfile, .interval = kRefreshInterval},
      [this] { refresh(); }, [this] { return registry_.exposition(); });
  refresher_->start();
  if (!options_.listen.empty()) {
    auto address = metrics::parseListenAddress(options_.listen);
    if (!address) {
      return address.error().wrap("metrics_listen");
    }
    auto http = metrics::HttpListener::start(*address, [this] { return registry_.exposition(); });
    if (!http) {
      return http.error().wrap("metrics_listen");
    }
    http_ = std::move(*http);
  }
  log::contd()->info("op=metrics textfile={} listen={} port={}",
                     options_.textfile.empty() ? "-" : options_.textfile,
                     options_.listen.empty() ? "-" : options_.listen, http_ ? http_->port() : 0);
  return okStatus();
}

void NodeMetrics::stop() {
  if (http_) {
    http_->stop();
  }
  stopping_.store(true);
  if (listener_) {
    listener_->close();
  }
  if (event_thread_.joinable()) {
    event_thread_.join();
  }
  if (refresher_) {
    refresher_->stop();
  }
}

void NodeMetrics::apiCall(std::string_view method, std::string_view code, double seconds) {
  api_calls_.with({method, code}).inc();
  api_seconds_.with({method}).observe(seconds);
}

void NodeMetrics::containerdCall(std::string_view op, std::string_view code, double seconds) {
  containerd_calls_.with({op, code}).inc();
  containerd_seconds_.with({op}).observe(seconds);
}

void NodeMetrics::imagePull(std::uint64_t bytes, double seconds, bool ok) {
  const std::string_view result = ok ? "ok" : "error";
  pulls_.with({result}).inc();
  pull_seconds_.with({result}).observe(seconds);
  if (ok) {
    pull_bytes_.with().inc(static_cast<double>(bytes));
  }
}

void NodeMetrics::refresh() {
  const LogScan logs = scanLogs(options_.log_root);
  log_disk_.with().set(static_cast<double>(logs.disk_bytes));
  log_retained_disk_.with().set(static_cast<double>(logs.retained_disk_bytes));
  log_dropped_bytes_.with().set(static_cast<double>(logs.dropped_bytes));
  log_dropped_records_.with().set(static_cast<double>(logs.dropped_records));
  log_writer_restarts_.with().set(static_cast<double>(logs.writer_restarts));
  if (service_ == nullptr) {
    return;
  }
  auto containers = service_->list("");
  containerd_up_.with().set(containers ? 1 : 0);
  if (!containers) {
    return;  // the last counts stay: containers keep running while containerd is away
  }
  std::map<container::ContainerStatus, int> counts;
  for (const auto& info : *containers) {
    ++counts[info.status];
  }
  for (const auto state : kStates) {
    containers_.with({container::containerStatusName(state)}).set(counts[state]);
  }
}

void NodeMetrics::countEvents(std::shared_ptr<container::EventBus::Listener> listener) {
  std::uint64_t dropped = 0;
  while (!stopping_.load()) {
    auto event = listener->next(kEventWait);
    if (const auto now_dropped = listener->dropped(); now_dropped > dropped) {
      events_dropped_.with().inc(static_cast<double>(now_dropped - dropped));
      dropped = now_dropped;
    }
    if (!event) {
      continue;  // a timeout, or close(): stopping_ tells
    }
    using Kind = container::ModuleEvent::Kind;
    const std::vector<std::string_view> ns = {event->ns};
    switch (event->kind) {
      case Kind::kExited: exits_.with(ns).inc(); break;
      case Kind::kOom: ooms_.with(ns).inc(); break;
      case Kind::kRestarted: restarts_.with(ns).inc(); break;
      case Kind::kGaveUp: gave_ups_.with(ns).inc(); break;
      default: break;
    }
  }
}

}  // namespace contd::daemon
