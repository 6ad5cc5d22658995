#include "modules/container/scheduler.h"

namespace contd::container {

Scheduler::Scheduler(std::size_t workers) {
  for (std::size_t i = 0; i < workers; ++i) {
    workers_.emplace_back([this] { work(); });
  }
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    due_.clear();
  }
  changed_.notify_all();
  for (auto& worker : workers_) {
    worker.join();
  }
}

void Scheduler::postAt(Clock::time_point when, std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return;
    }
    due_.emplace(when, std::move(task));
  }
  changed_.notify_one();
}

void Scheduler::work() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      changed_.wait(lock);
      continue;
    }
    auto first = due_.begin();
    if (first->first > Clock::now()) {
      // A copy: while this worker waits, another may run the task and free its node, and
      // wait_until reads the time again when it wakes.
      const Clock::time_point when = first->first;
      changed_.wait_until(lock, when);
      continue;
    }
    auto task = std::move(first->second);
    due_.erase(first);
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace contd::container
