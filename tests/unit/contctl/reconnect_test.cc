// followReconnecting (events and logs -f across a restart of contd) and LogResume (where a
// resumed Logs call picks up): a scripted sequence of stream ends, a fake clock.

#include "modules/contctl/reconnect.h"
#include "modules/contctl/follow.h"

#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

namespace contd::contctl {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const grpc::Status kGone(grpc::StatusCode::UNAVAILABLE, "Socket closed");
const grpc::Status kRefused(grpc::StatusCode::UNAVAILABLE, "connect: Connection refused");

class ReconnectTest : public ::testing::Test {
protected:
  ReconnectTest() : notices_(std::tmpfile()) {}
  ~ReconnectTest() override { std::fclose(notices_); }

  // Runs the loop over `ends`; records the delays slept and whether each call was resumed.
  Status run(std::deque<Client::StreamEnd> ends) {
    ReconnectClock clock;
    clock.now = [this] { return now_; };
    clock.sleep = [this](std::chrono::milliseconds delay) {
      delays_.push_back(delay);
      now_ += delay;
    };
    clock.notices = notices_;
    return followReconnecting(
        [&](bool resumed) {
          resumed_.push_back(resumed);
          auto end = ends.front();
          ends.pop_front();
          return end;
        },
        [&] { ++reconnects_; }, ReconnectPolicy{}, clock);
  }
  std::string notices() {
    std::rewind(notices_);
    std::string text(4096, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), notices_));
    return text;
  }

  std::FILE* notices_;
  Clock::time_point now_{};
  std::vector<std::chrono::milliseconds> delays_;
  std::vector<bool> resumed_;
  int reconnects_ = 0;
};

TEST_F(ReconnectTest, AFirstCallContdNeverTookFailsAtOnce) {
  auto status = run({{kRefused, false}});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "UNAVAILABLE: connect: Connection refused");
  EXPECT_TRUE(delays_.empty());
  EXPECT_EQ(notices(), "");
}

TEST_F(ReconnectTest, ALostStreamIsCalledAgainWithBackoffAndOneNotice) {
  auto status = run({{kGone, true}, {kRefused, false}, {kRefused, false}, {kRefused, false},
                     {grpc::Status::OK, true}});
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(delays_, (std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms, 800ms}));
  EXPECT_EQ(resumed_, (std::vector<bool>{false, true, true, true, true}));
  EXPECT_EQ(reconnects_, 4);
  EXPECT_EQ(notices(), "contctl: contd restarted, reconnecting\n");
}

TEST_F(ReconnectTest, TheDelayStopsGrowingAtTwoSecondsAndResetsAfterAReconnect) {
  std::deque<Client::StreamEnd> ends = {{kGone, true}};
  for (int i = 0; i < 7; ++i) {
    ends.push_back({kRefused, false});
  }
  ends.push_back({kGone, true});  // back, then lost again
  ends.push_back({grpc::Status(grpc::StatusCode::NOT_FOUND, "gone"), false});
  auto status = run(ends);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "NOT_FOUND: gone");
  EXPECT_EQ(delays_, (std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms, 800ms, 1600ms,
                                                             2000ms, 2000ms, 2000ms, 100ms}));
  EXPECT_EQ(notices(),
            "contctl: contd restarted, reconnecting\ncontctl: contd restarted, reconnecting\n");
}

TEST_F(ReconnectTest, AnOutageLongerThanAMinuteIsGivenUpOn) {
  std::deque<Client::StreamEnd> ends = {{kGone, true}};
  for (int i = 0; i < 100; ++i) {
    ends.push_back({kRefused, false});
  }
  auto status = run(ends);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message,
            "UNAVAILABLE: contd did not come back within 60s: connect: Connection refused");
  EXPECT_LE(resumed_.size(), 40u);
  std::chrono::milliseconds slept{0};
  for (auto delay : delays_) {
    slept += delay;
  }
  EXPECT_GE(slept, 60s);
  EXPECT_LT(slept, 63s);
}

TEST_F(ReconnectTest, OtherEndsAndServerCancelsAreTold) {
  EXPECT_TRUE(contdWentAway(grpc::Status(grpc::StatusCode::CANCELLED, "")));
  EXPECT_FALSE(contdWentAway(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "")));
  EXPECT_FALSE(contdWentAway(grpc::Status::OK));
  auto status = run({{grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "namespace: bad"), true}});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "INVALID_ARGUMENT: namespace: bad");
}

v1::LogLine line(std::int64_t ns, const std::string& text) {
  v1::LogLine out;
  *out.mutable_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(ns);
  out.set_stream("stdout");
  out.set_text(text);
  return out;
}

TEST(LogResume, NothingReceivedAsksTheSameAgain) {
  LogResume resume;
  v1::LogsRequest first;
  first.set_tail(5);
  first.set_follow(true);
  EXPECT_EQ(resume.next(first).tail(), 5u);
  EXPECT_FALSE(resume.next(first).has_since());
}

TEST(LogResume, AResumedCallStartsAtTheLastTimeAndDropsWhatWasReceived) {
  LogResume resume;
  v1::LogsRequest first;
  first.set_tail(5);
  first.set_follow(true);
  EXPECT_TRUE(resume.fresh(line(100, "a")));
  EXPECT_TRUE(resume.fresh(line(200, "b")));
  EXPECT_TRUE(resume.fresh(line(200, "c")));  // two lines in one nanosecond
  auto next = resume.next(first);
  EXPECT_EQ(next.tail(), 0u);
  EXPECT_EQ(google::protobuf::util::TimeUtil::TimestampToNanoseconds(next.since()), 200);
  EXPECT_TRUE(next.follow());
  resume.resume();
  // The resumed call sends b and c again, then what came while contd was away.
  EXPECT_FALSE(resume.fresh(line(200, "b")));
  EXPECT_FALSE(resume.fresh(line(200, "c")));
  EXPECT_TRUE(resume.fresh(line(200, "d")));
  EXPECT_TRUE(resume.fresh(line(300, "e")));
  resume.resume();
  EXPECT_FALSE(resume.fresh(line(300, "e")));
  EXPECT_TRUE(resume.fresh(line(400, "f")));
}

}  // namespace
}  // namespace contd::contctl
