#pragma once
// Serialises calls on the same key (a container) without a global lock: a key is either
// held by one Guard or absent. Waiters block on one condition variable; contention is rare
// (two calls on one container) so waking them all on release is cheap.

#include <condition_variable>
#include <set>
#include <mutex>
#include <string>

namespace contd::container {

class KeyLocks {
public:
  class Guard {
  public:
    Guard(KeyLocks& owner, std::string key);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

  private:
    KeyLocks& owner_;
    std::string key_;
  };

  // Blocks until no other Guard holds `key`.
  [[nodiscard]] Guard lock(std::string key) { return Guard(*this, std::move(key)); }

private:
  std::mutex mu_;
  std::condition_variable released_;
  std::set<std::string> held_;
};

}  // namespace contd::container
