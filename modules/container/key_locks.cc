#include "modules/container/key_locks.h"

namespace contd::container {

KeyLocks::Guard::Guard(KeyLocks& owner, std::string key) : owner_(owner), key_(std::move(key)) {
  std::unique_lock lock(owner_.mu_);
  owner_.released_.wait(lock, [&] { return !owner_.held_.contains(key_); });
  owner_.held_.insert(key_);
}

KeyLocks::Guard::~Guard() {
  {
    std::lock_guard lock(owner_.mu_);
    owner_.held_.erase(key_);
  }
  owner_.released_.notify_all();
}

}  // namespace contd::container
