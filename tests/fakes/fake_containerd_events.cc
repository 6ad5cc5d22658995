// FakeContainerd's events: one queue and delivery thread per subscription (see the header
// for when events are queued).

#include <signal.h>

#include <algorithm>
#include <utility>
#include <variant>

#include "tests/fakes/fake_containerd.h"

namespace contd::testing {

using containerd::TaskStatus;

struct FakeContainerd::Subscriber {
  using Item = std::variant<containerd::Event, Error>;

  std::vector<std::string> topics;  // empty: every topic
  containerd::EventCallback on_event;
  containerd::BrokenCallback on_broken;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;  // guarded by mu
  bool busy = false;       // a callback runs; guarded by mu
  bool broken = false;     // on_broken is queued: accept nothing more; guarded by mu
  bool closing = false;    // the Subscription is being destroyed; guarded by mu
  std::thread thread;

  bool wants(const std::string& topic) const {
    return topics.empty() || std::find(topics.begin(), topics.end(), topic) != topics.end();
  }

  // Queues `item` unless the subscription has ended; an Error ends it.
  void push(Item item) {
    {
      std::lock_guard lock(mu);
      if (broken || closing) {
        return;
      }
      broken = std::holds_alternative<Error>(item);
      queue.push_back(std::move(item));
    }
    cv.notify_all();
  }

  bool live() {
    std::lock_guard lock(mu);
    return !broken && !closing;
  }

  bool closed() {
    std::lock_guard lock(mu);
    return closing;
  }

  void flush() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return closing || (queue.empty() && !busy); });
  }

  void run() {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return closing || !queue.empty(); });
      if (closing) {
        return;  // what is still queued is dropped, as a cancelled stream would
      }
      Item item = std::move(queue.front());
      queue.pop_front();
      busy = true;
      lock.unlock();
      if (auto* event = std::get_if<containerd::Event>(&item)) {
        on_event(*event);
      } else {
        on_broken(std::get<Error>(item));
      }
      lock.lock();
      busy = false;
      cv.notify_all();
    }
  }
};

namespace {

class FakeSubscription final : public containerd::Subscription {
public:
  explicit FakeSubscription(std::shared_ptr<FakeContainerd::Subscriber> subscriber)
      : subscriber_(std::move(subscriber)) {}

  ~FakeSubscription() override {
    {
      std::lock_guard lock(subscriber_->mu);
      subscriber_->closing = true;
    }
    subscriber_->cv.notify_all();
    if (subscriber_->thread.joinable()) {
      subscriber_->thread.join();
    }
  }

private:
  std::shared_ptr<FakeContainerd::Subscriber> subscriber_;
};

}  // namespace

void FakeContainerd::queueEvent(const containerd::Event& event) {
  std::erase_if(subscribers_, [](const auto& subscriber) { return subscriber->closed(); });
  for (const auto& subscriber : subscribers_) {
    if (subscriber->wants(event.topic)) {
      subscriber->push(event);
    }
  }
}

void FakeContainerd::queueExit(const Key& key, const std::string& process_id, std::uint32_t pid,
                               std::uint32_t code, containerd::UnixNanos at) {
  containerd::Event event;
  event.kind = containerd::Event::Kind::kTaskExit;
  event.ns = key.first;
  event.topic = "/tasks/exit";
  event.container_id = key.second;
  event.process_id = process_id;
  event.pid = pid;
  event.exit_status = code;
  event.timestamp = at;
  queueEvent(event);
}

void FakeContainerd::stopProcess(const Key& key, Process& process, std::uint32_t code) {
  process.state.status = TaskStatus::kStopped;
  process.state.exit_status = code;
  process.state.exited_at = ++clock_;
  queueExit(key, process.request.exec_id, process.state.pid, code, process.state.exited_at);
}

void FakeContainerd::stopTask(const Key& key, Task& task, std::uint32_t code) {
  // The kernel kills what runs in a pid namespace whose init dies.
  for (const auto& exec_id : task.exec_order) {
    Process& process = task.processes.find(exec_id)->second;
    if (process.state.status == TaskStatus::kRunning) {
      stopProcess(key, process, 128 + SIGKILL);
    }
  }
  task.state.status = TaskStatus::kStopped;
  task.state.exit_status = code;
  task.state.exited_at = ++clock_;
  queueExit(key, key.second, task.state.pid, code, task.state.exited_at);
}

void FakeContainerd::emitExit(const std::string& ns, const std::string& id, std::uint32_t code) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find({ns, id});
  const std::uint32_t pid = it == tasks_.end() ? 0 : it->second.state.pid;
  queueExit({ns, id}, id, pid, code, ++clock_);
}

void FakeContainerd::emitOom(const std::string& ns, const std::string& id) {
  containerd::Event event;
  event.kind = containerd::Event::Kind::kTaskOom;
  event.ns = ns;
  event.topic = "/tasks/oom";
  event.container_id = id;
  std::lock_guard lock(mu_);
  event.timestamp = ++clock_;
  queueEvent(event);
}

void FakeContainerd::emitEvent(const containerd::Event& event) {
  std::lock_guard lock(mu_);
  queueEvent(event);
}

void FakeContainerd::breakSubscriptions(const Error& error) {
  std::lock_guard lock(mu_);
  for (const auto& subscriber : subscribers_) {
    subscriber->push(error);
  }
}

void FakeContainerd::flushEvents() {
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(mu_);
    subscribers = subscribers_;
  }
  for (const auto& subscriber : subscribers) {
    subscriber->flush();
  }
}

std::size_t FakeContainerd::subscriptionCount() const {
  std::lock_guard lock(mu_);
  std::size_t count = 0;
  for (const auto& subscriber : subscribers_) {
    count += subscriber->live() ? 1 : 0;
  }
  return count;
}

Result<std::unique_ptr<containerd::Subscription>> FakeContainerd::subscribe(
    std::vector<std::string> topics, containerd::EventCallback on_event,
    containerd::BrokenCallback on_broken) {
  std::lock_guard lock(mu_);
  if (auto failure = takeFailure("subscribe")) {
    return *failure;
  }
  if (!on_event || !on_broken) {
    return invalidArgument("subscribe: missing callback");
  }
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->topics = std::move(topics);
  subscriber->on_event = std::move(on_event);
  subscriber->on_broken = std::move(on_broken);
  subscriber->thread = std::thread([raw = subscriber.get()] { raw->run(); });
  std::erase_if(subscribers_, [](const auto& s) { return s->closed(); });
  subscribers_.push_back(subscriber);
  return std::unique_ptr<containerd::Subscription>(
      std::make_unique<FakeSubscription>(std::move(subscriber)));
}

}  // namespace contd::testing
