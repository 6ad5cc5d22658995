#include "modules/container/event_bus.h"

#include <thread>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

using namespace std::chrono_literals;

ModuleEvent event(ModuleEvent::Kind kind, std::string id) {
  ModuleEvent e;
  e.kind = kind;
  e.ns = "ns";
  e.id = std::move(id);
  return e;
}

TEST(EventBus, EveryListenerSeesEventsPublishedAfterItListens) {
  EventBus bus;
  bus.publish(event(ModuleEvent::Kind::kStarted, "before"));
  auto a = bus.listen();
  auto b = bus.listen();
  bus.publish(event(ModuleEvent::Kind::kExited, "x"));
  for (auto& listener : {a, b}) {
    auto got = listener->next(100ms);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->id, "x");
    EXPECT_EQ(got->kind, ModuleEvent::Kind::kExited);
    EXPECT_GT(got->time, 0);
    EXPECT_FALSE(listener->next(10ms));
  }
}

TEST(EventBus, ASlowListenerLosesTheOldestAndIsToldHowMany) {
  EventBus bus(2);
  auto listener = bus.listen();
  for (int i = 0; i < 5; ++i) {
    bus.publish(event(ModuleEvent::Kind::kStarted, std::to_string(i)));
  }
  EXPECT_EQ(listener->dropped(), 3u);
  EXPECT_EQ(listener->next(10ms)->id, "3");
  EXPECT_EQ(listener->next(10ms)->id, "4");
}

TEST(EventBus, CloseWakesAWaitingListener) {
  EventBus bus;
  auto listener = bus.listen();
  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    listener->close();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(listener->next(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  closer.join();
}

}  // namespace
}  // namespace contd::container
