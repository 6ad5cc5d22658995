#include "modules/container/scheduler.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

using namespace std::chrono_literals;

// Found by AddressSanitizer (the sanitizer run of the supervisor tests): workers waiting for
// the same first task read its time from the map node after another worker had run the task
// and freed the node (heap-use-after-free). Several workers, several tasks due at once.
TEST(SchedulerTest, WorkersWaitingForTheSameTaskEachRunOneTaskOnce) {
  std::atomic<int> ran{0};
  {
    Scheduler scheduler(4);
    for (int round = 0; round < 10; ++round) {
      const auto when = Scheduler::Clock::now() + 20ms;
      for (int i = 0; i < 4; ++i) {
        scheduler.postAt(when, [&ran] { ran.fetch_add(1); });
      }
      std::this_thread::sleep_for(30ms);
    }
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (ran.load() < 40 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
  }
  EXPECT_EQ(ran.load(), 40);
}

TEST(SchedulerTest, DropsTasksNotYetDueWhenDestroyed) {
  std::atomic<int> ran{0};
  {
    Scheduler scheduler(2);
    scheduler.post([&ran] { ran.fetch_add(1); });
    scheduler.postAt(Scheduler::Clock::now() + 1h, [&ran] { ran.fetch_add(100); });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (ran.load() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
  }
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace contd::container
