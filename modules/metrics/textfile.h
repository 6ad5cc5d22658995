#pragma once
// The metrics textfile for prometheus-node-exporter's textfile collector, and the thread
// that refreshes it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "modules/common/result.h"

namespace contd::metrics {

// Writes `text` to `path` atomically: a temporary file in the same folder (a name the
// collector ignores: it reads only *.prom), fsync, mode 0644, then rename over `path`. A
// reader sees the old file or the new one, never half of one. Errors: the failing call
// with strerror, naming the path.
Status writeTextfile(const std::string& path, const std::string& text);

// Every `interval`, and once more in stop(): calls refresh() (which updates gauges), then,
// when `textfile` is not empty, writes render() to it. A failed write is logged (warn) once
// per change of the error, not on every round.
class Refresher {
public:
  struct Options {
    std::string textfile;  // "" for none
    std::chrono::milliseconds interval{5000};
  };
  Refresher(Options options, std::function<void()> refresh, std::function<std::string()> render);
  ~Refresher();  // stop()
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // Refreshes once at once, then on the thread.
  void start();
  // Joins the thread, then refreshes and writes a last time; idempotent.
  void stop();

private:
  void round();
  void run();

  Options options_;
  std::function<void()> refresh_;
  std::function<std::string()> render_;
  std::string last_error_;  // the thread's, or the caller's of start/stop when none runs
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace contd::metrics
