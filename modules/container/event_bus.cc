#include "modules/container/event_bus.h"

namespace contd::container {

std::int64_t unixNanosNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<ModuleEvent> EventBus::Listener::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  ready_.wait_for(lock, timeout, [&] { return closed_ || !queue_.empty(); });
  if (closed_ || queue_.empty()) {
    return std::nullopt;
  }
  ModuleEvent event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

std::uint64_t EventBus::Listener::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void EventBus::Listener::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  ready_.notify_all();
}

void EventBus::publish(ModuleEvent event) {
  if (event.time == 0) {
    event.time = unixNanosNow();
  }
  std::lock_guard lock(mu_);
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    auto listener = it->lock();
    if (!listener) {
      it = listeners_.erase(it);
      continue;
    }
    {
      std::lock_guard inner(listener->mu_);
      if (listener->queue_.size() >= queue_limit_) {
        listener->queue_.pop_front();
        ++listener->dropped_;
      }
      listener->queue_.push_back(event);
    }
    listener->ready_.notify_one();
    ++it;
  }
}

std::shared_ptr<EventBus::Listener> EventBus::listen() {
  auto listener = std::make_shared<Listener>();
  std::lock_guard lock(mu_);
  listeners_.push_back(listener);
  return listener;
}

}  // namespace contd::container
