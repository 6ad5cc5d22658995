#pragma once
// A few worker threads running posted tasks, now or at a given time. The supervisor uses it
// for exit handling and delayed restarts, so that a slow action (one waiting for a
// container's lock while a Delete runs) never holds up the event stream.
//
// Thread-safety: post/postAt from any thread. The destructor drops tasks not yet started
// and joins the workers (a running task finishes first).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace contd::container {

class Scheduler {
public:
  using Clock = std::chrono::steady_clock;

  explicit Scheduler(std::size_t workers);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void post(std::function<void()> task) { postAt(Clock::now(), std::move(task)); }
  void postAt(Clock::time_point when, std::function<void()> task);

private:
  void work();

  std::mutex mu_;
  std::condition_variable changed_;
  std::multimap<Clock::time_point, std::function<void()>> due_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace contd::container
