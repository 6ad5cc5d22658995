#include "modules/container/key_locks.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

TEST(KeyLocks, SameKeyIsSerialised) {
  KeyLocks locks;
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 200; ++j) {
        auto guard = locks.lock("ns/web");
        int now = ++inside;
        most = std::max(most.load(), now);
        std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(most.load(), 1);
}

TEST(KeyLocks, OtherKeysDoNotWait) {
  KeyLocks locks;
  auto held = locks.lock("ns/a");
  std::atomic<bool> got_b{false};
  std::thread other([&] {
    auto guard = locks.lock("ns/b");
    got_b = true;
  });
  other.join();  // would hang if "ns/b" waited for "ns/a"
  EXPECT_TRUE(got_b);
}

TEST(KeyLocks, ReleaseWakesAWaiter) {
  KeyLocks locks;
  std::atomic<bool> acquired{false};
  std::optional<KeyLocks::Guard> held;
  held.emplace(locks, "ns/a");
  std::thread waiter([&] {
    auto guard = locks.lock("ns/a");
    acquired = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(acquired);
  held.reset();
  waiter.join();
  EXPECT_TRUE(acquired);
}

}  // namespace
}  // namespace contd::container
