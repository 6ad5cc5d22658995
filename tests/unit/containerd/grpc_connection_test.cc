// The call layer every containerd call of contd goes through (grpc_connection.h), without
// containerd: what prepare() refuses and sets, how finish() maps and words a result.

#include "modules/containerd/grpc_connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace contd::containerd::rpc {
namespace {

using namespace std::chrono_literals;

TEST(Prepare, RefusesNamespacesAndLeasesGrpcCannotSendAndLeavesTheContextUntouched) {
  for (const std::string bad : {"a\nb", "h1-\xc3\xa9", "a b"}) {
    SCOPED_TRACE(::testing::PrintToString(bad));
    grpc::ClientContext by_ns;
    auto refused = prepare(&by_ns, Call{.op = "images.List", .what = "list images", .ns = bad}, 1s);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
    EXPECT_EQ(by_ns.deadline(), std::chrono::system_clock::time_point::max());

    grpc::ClientContext by_lease;
    refused =
        prepare(&by_lease, Call{.op = "content.Write", .what = "w", .ns = "ns1", .lease = bad}, 1s);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
    EXPECT_NE(refused.error().message.find("lease"), std::string::npos);
  }
}

TEST(Prepare, AnEmptyNamespaceIsRefusedOnlyWhenTheCallNeedsOne) {
  grpc::ClientContext without;
  EXPECT_TRUE(prepare(&without, Call{.op = "version.Version", .what = "v"}, 1s));
  grpc::ClientContext needing;
  auto refused = prepare(&needing, Call{.op = "images.List", .what = "l", .needs_ns = true}, 1s);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
}

TEST(Prepare, SetsTheDeadlineUnlessThereIsNone) {
  grpc::ClientContext context;
  const auto before = std::chrono::system_clock::now();
  ASSERT_TRUE(prepare(&context, Call{.op = "tasks.Get", .what = "get task", .ns = "ns1"}, 5s));
  EXPECT_GE(context.deadline(), before + 5s);
  EXPECT_LE(context.deadline(), std::chrono::system_clock::now() + 5s);

  grpc::ClientContext stream;
  ASSERT_TRUE(prepare(&stream, Call{.op = "events.Subscribe", .what = "s"}, kNoDeadline));
  EXPECT_EQ(stream.deadline(), std::chrono::system_clock::time_point::max());
}

TEST(Finish, WordsTheErrorAsWhatWasDoneInWhichNamespace) {
  const auto now = std::chrono::steady_clock::now();
  const auto later = std::chrono::system_clock::now() + 1h;
  const Call task{.op = "tasks.Get", .what = "get task", .ns = "ns1", .id = "web"};
  EXPECT_TRUE(finish(task, grpc::Status::OK, later, 1s, now));
  auto missing =
      finish(task, grpc::Status(grpc::StatusCode::NOT_FOUND, "not found"), later, 1s, now);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_EQ(missing.error().message, "get task 'web' in 'ns1': not found");

  const Call list{.op = "images.List", .what = "list images", .ns = "ns1", .lease = "l1"};
  auto down = finish(list, grpc::Status(grpc::StatusCode::UNAVAILABLE, "refused"), later, 1s, now);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, Code::kUnavailable);
  EXPECT_EQ(down.error().message, "list images in 'ns1': refused");

  const Call create{
      .op = "namespaces.Create", .what = "create namespace", .ns = "ns1", .ns_is_subject = true};
  EXPECT_EQ(describe(create), "create namespace 'ns1'");
}

// containerd shares the deadline and may answer UNKNOWN "context deadline exceeded" first.
TEST(Finish, AFailureAfterTheCallsOwnDeadlineIsThatDeadline) {
  const Call wait{.op = "tasks.Wait", .what = "wait for task", .ns = "ns1", .id = "web"};
  const auto passed = std::chrono::system_clock::now() - 1ms;
  auto late = finish(wait, grpc::Status(grpc::StatusCode::UNKNOWN, "context deadline exceeded"),
                     passed, 250ms, std::chrono::steady_clock::now());
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Code::kDeadlineExceeded);
  EXPECT_EQ(late.error().message, "wait for task 'web' in 'ns1': deadline of 250 ms exceeded");
}

TEST(ConnectionOpen, MakesNoCallAndRefusesAnEmptyPath) {
  auto empty = Connection::open("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Code::kInvalidArgument);
  auto opened = Connection::open("/nonexistent/containerd.sock");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ((*opened)->socketPath(), "/nonexistent/containerd.sock");
  EXPECT_TRUE((*opened)->images != nullptr);
  EXPECT_TRUE((*opened)->tasks != nullptr);
}

}  // namespace
}  // namespace contd::containerd::rpc
