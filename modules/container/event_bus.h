#pragma once
// The container module's own events (started, exited, restarted, ...), fanned out to
// whoever listens: the gRPC Events stream, contctl events, the zbus bridge. In memory only:
// a listener sees what happens while it listens.
//
// Thread-safety: publish and subscribe from any thread. A listener's queue is bounded; a
// listener that does not keep up loses the oldest events and is told how many.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace contd::container {

struct ModuleEvent {
  enum class Kind {
    kStarted,     // Run or Start started it (pid)
    kExited,      // its process ended (exit_code; message "oom-killed" after an OOM kill,
                  // "unhealthy" when contd ended it for its health check)
    kOom,
    kBackingOff,  // a restart is queued (message: when)
    kRestarted,   // the restart policy started it again (pid)
    kGaveUp,      // the restart policy gave up (message: why)
    kDeleted,     // Delete removed it, or auto_remove did (message "auto-remove", then the
                  // exit's message when it has one; time and exit_code: that exit)
    kStopped,     // Stop ended it; it stays
    kKilled,      // Kill sent it a signal (message "signal N")
    kUpdated,     // Update changed its limits (message: what, "memory_bytes=67108864")
    kHealthy,     // its health check passed after it started or was unhealthy
    kUnhealthy,   // its health check failed `retries` times in a row (message: what follows)
  };
  Kind kind = Kind::kStarted;
  std::string ns;
  std::string id;
  std::int64_t time = 0;       // unix nanos
  std::int32_t exit_code = -1;  // kExited; kDeleted by auto_remove
  std::uint32_t pid = 0;        // kStarted, kRestarted
  std::string message;          // human detail ("restart in 2000 ms", "5 failures in 300 s")
};

class EventBus {
public:
  class Listener {
  public:
    // Waits up to `timeout` for the next event; nullopt on timeout or after close().
    std::optional<ModuleEvent> next(std::chrono::milliseconds timeout);
    // Events dropped because this listener fell behind.
    std::uint64_t dropped() const;
    // Wakes a waiting next() and makes every later call return nullopt.
    void close();

  private:
    friend class EventBus;
    mutable std::mutex mu_;
    std::condition_variable ready_;
    std::deque<ModuleEvent> queue_;
    std::uint64_t dropped_ = 0;
    bool closed_ = false;
  };

  explicit EventBus(std::size_t queue_limit = 1024) : queue_limit_(queue_limit) {}

  void publish(ModuleEvent event);
  // The listener receives every event published after this call, until it is destroyed.
  std::shared_ptr<Listener> listen();

private:
  std::mutex mu_;
  std::list<std::weak_ptr<Listener>> listeners_;
  std::size_t queue_limit_;
};

// Unix nanos of the system clock, for event and exit times.
std::int64_t unixNanosNow();

}  // namespace contd::container
