// The proto <-> core conversions lose nothing, and every contd::Code has its gRPC code.

#include "modules/api_server/conversions.h"

#include <limits>
#include <utility>
#include <vector>

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

namespace contd::api {
namespace {

container::ContainerSpec fullSpec() {
  container::ContainerSpec spec;
  spec.name = "web";
  spec.rootfs = "/var/lib/rootfs/web";
  spec.entrypoint = "/bin/sh -c 'echo hi'";
  spec.argv = {"/bin/server", "--port", "80"};
  spec.env = {"A=1", "B=two words"};
  spec.working_dir = "/srv";
  spec.network_namespace = "net1";
  spec.mounts = {{.source = "/data", .target = "/data", .readonly = false},
                 {.source = "/etc/ssl", .target = "/etc/ssl", .readonly = true}};
  spec.interactive = true;
  spec.cpu = 2;
  spec.memory_bytes = 512ULL << 20;
  spec.pids_limit = -1;
  spec.hostname = "web-1";
  spec.tags = {"blue", "green"};
  spec.elevated = true;
  spec.rootfs_propagation = "rslave";
  spec.shutdown_timeout = std::chrono::milliseconds(7500);
  spec.seccomp = "/etc/contd/strict.json";
  spec.readonly_rootfs = true;
  spec.image = "busybox:1";
  spec.user = "app:staff";
  spec.health = container::HealthCheckSpec{.argv = {"/bin/check", "-q"},
                                           .interval = std::chrono::milliseconds(1000),
                                           .timeout = std::chrono::milliseconds(500),
                                           .retries = 4,
                                           .start_period = std::chrono::milliseconds(9000)};
  return spec;
}

TEST(Conversions, FullSpecRoundTripsThroughProto) {
  const auto spec = fullSpec();
  const auto proto = toProto(spec);
  EXPECT_EQ(proto.name(), "web");
  EXPECT_EQ(proto.argv_size(), 3);
  ASSERT_EQ(proto.mounts_size(), 2);
  EXPECT_TRUE(proto.mounts(1).readonly());
  EXPECT_EQ(proto.memory_bytes(), 512ULL << 20);
  EXPECT_EQ(proto.pids_limit(), -1);
  EXPECT_EQ(proto.shutdown_timeout_ms(), 7500U);
  EXPECT_EQ(proto.seccomp(), "/etc/contd/strict.json");
  EXPECT_TRUE(proto.readonly_rootfs());
  EXPECT_EQ(proto.image(), "busybox:1");
  EXPECT_EQ(proto.user(), "app:staff");
  ASSERT_TRUE(proto.has_health());
  EXPECT_EQ(proto.health().argv_size(), 2);
  EXPECT_EQ(proto.health().interval_ms(), 1000U);
  EXPECT_EQ(proto.health().timeout_ms(), 500U);
  EXPECT_EQ(proto.health().retries(), 4U);
  EXPECT_EQ(proto.health().start_period_ms(), 9000U);
  EXPECT_EQ(fromProto(proto), spec);
  auto without = spec;
  without.health.reset();
  EXPECT_FALSE(toProto(without).has_health());
}

TEST(Conversions, AHugeHealthDurationDoesNotWrap) {
  v1::ContainerSpec proto;
  proto.mutable_health()->set_interval_ms(std::numeric_limits<std::uint64_t>::max());
  const auto spec = fromProto(proto);
  ASSERT_TRUE(spec.health);
  EXPECT_EQ(spec.health->interval.count(), std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(spec.health->argv.empty()) << "an empty HealthCheck is a health check (refused)";
}

TEST(Conversions, HealthStateExitsAndEventsMapBothWays) {
  container::ContainerInfo info;
  info.spec = fullSpec();
  info.exits = {{.time = 5, .code = 143, .oom_killed = false, .unhealthy = true}};
  info.health = container::HealthState{
      .status = container::HealthStatus::kUnhealthy,
      .failing_streak = 4,
      .log = {{.start = 1'700'000'000'000'000'000, .end = 1'700'000'000'500'000'000,
               .exit_code = -1, .output = "timed out"}}};
  const auto proto = toProto(info);
  EXPECT_TRUE(proto.exits(0).unhealthy());
  ASSERT_TRUE(proto.has_health());
  EXPECT_EQ(proto.health().status(), v1::HealthState::UNHEALTHY);
  EXPECT_EQ(proto.health().failing_streak(), 4U);
  ASSERT_EQ(proto.health().log_size(), 1);
  EXPECT_EQ(proto.health().log(0).end().nanos(), 500'000'000);
  EXPECT_EQ(proto.health().log(0).exit_code(), -1);
  const auto back = fromProto(proto);
  EXPECT_EQ(back.health, info.health);
  EXPECT_EQ(back.exits, info.exits);
  info.health.reset();
  EXPECT_FALSE(toProto(info).has_health()) << "no health check, no health";
  EXPECT_EQ(toProto(container::HealthState{}).status(), v1::HealthState::STARTING);

  using Kind = container::ModuleEvent::Kind;
  EXPECT_EQ(toProto(container::ModuleEvent{.kind = Kind::kHealthy}).kind(), v1::Event::HEALTHY);
  EXPECT_EQ(toProto(container::ModuleEvent{.kind = Kind::kUnhealthy}).kind(),
            v1::Event::UNHEALTHY);
}

TEST(Conversions, SpecSurvivesTheWire) {
  const auto spec = fullSpec();
  std::string wire;
  ASSERT_TRUE(toProto(spec).SerializeToString(&wire));
  v1::ContainerSpec parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_EQ(fromProto(parsed), spec);
}

TEST(Conversions, EmptySpecStaysEmpty) {
  EXPECT_EQ(fromProto(v1::ContainerSpec()), container::ContainerSpec());
}

TEST(Conversions, RunningInfoHasNoExitCodeAndNoExitTime) {
  container::ContainerInfo info;
  info.ns = "ns1";
  info.spec = fullSpec();
  info.status = container::ContainerStatus::kRunning;
  info.pid = 4242;
  info.created_at = 1'700'000'000'123'456'789;
  info.log_path = "/var/log/contd/ns1/web.log";

  const auto proto = toProto(info);
  EXPECT_EQ(proto.namespace_(), "ns1");
  EXPECT_EQ(proto.status(), v1::ContainerInfo::RUNNING);
  EXPECT_EQ(proto.pid(), 4242U);
  EXPECT_FALSE(proto.has_exit_code());
  EXPECT_FALSE(proto.has_exited_at());
  ASSERT_TRUE(proto.has_created_at());
  EXPECT_EQ(proto.created_at().seconds(), 1'700'000'000);
  EXPECT_EQ(proto.created_at().nanos(), 123'456'789);
  EXPECT_EQ(proto.log_path(), info.log_path);

  const auto back = fromProto(proto);
  EXPECT_EQ(back.exit_code, -1);
  EXPECT_EQ(back.exited_at, 0);
  EXPECT_EQ(back.created_at, info.created_at);
  EXPECT_EQ(back.spec, info.spec);
}

TEST(Conversions, StoppedInfoCarriesExitCodeZeroAndTime) {
  container::ContainerInfo info;
  info.ns = "ns1";
  info.spec.name = "job";
  info.status = container::ContainerStatus::kStopped;
  info.exit_code = 0;  // a clean exit must not look like "no exit"
  info.exited_at = 1'700'000'100'000'000'001;

  const auto proto = toProto(info);
  EXPECT_EQ(proto.status(), v1::ContainerInfo::STOPPED);
  ASSERT_TRUE(proto.has_exit_code());
  EXPECT_EQ(proto.exit_code(), 0);
  ASSERT_TRUE(proto.has_exited_at());
  EXPECT_EQ(fromProto(proto).exited_at, info.exited_at);
}

TEST(Conversions, LogHealthCountersMapBothWays) {
  container::ContainerInfo info;
  info.spec.name = "web";
  info.log_writer_restarts = 2;
  info.log_dropped_bytes = 5'000'000'000;
  const auto proto = toProto(info);
  EXPECT_EQ(proto.log_writer_restarts(), 2U);
  EXPECT_EQ(proto.log_dropped_bytes(), 5'000'000'000U);
  const auto back = fromProto(proto);
  EXPECT_EQ(back.log_writer_restarts, 2U);
  EXPECT_EQ(back.log_dropped_bytes, 5'000'000'000U);
}

TEST(Conversions, ImageDigestMapsBothWays) {
  container::ContainerInfo info;
  info.spec.image = "docker.io/library/busybox:latest";
  info.image_digest = "sha256:" + std::string(64, 'e');
  const auto proto = toProto(info);
  EXPECT_EQ(proto.image_digest(), info.image_digest);
  EXPECT_EQ(fromProto(proto).image_digest, info.image_digest);
}

TEST(Conversions, StatusMapsBothWays) {
  using container::ContainerStatus;
  for (auto status : {ContainerStatus::kUnknown, ContainerStatus::kCreated,
                      ContainerStatus::kRunning, ContainerStatus::kStopped}) {
    EXPECT_EQ(fromProto(toProto(status)), status);
  }
  EXPECT_EQ(toProto(ContainerStatus::kUnknown), v1::ContainerInfo::UNKNOWN);
  EXPECT_EQ(fromProto(v1::ContainerInfo::STATUS_UNSPECIFIED), ContainerStatus::kUnknown);
}

TEST(Conversions, UpdateKeepsWhichLimitsAreSetAndItsEventIsUpdated) {
  v1::UpdateRequest request;
  EXPECT_TRUE(fromProto(request).empty());
  request.set_memory_bytes(0);  // set to 0 (lift the limit) is not unset
  request.set_pids_limit(-1);
  const container::LimitsUpdate limits = fromProto(request);
  EXPECT_EQ(limits, (container::LimitsUpdate{.memory_bytes = 0, .pids_limit = -1}));
  request.set_cpu(3);
  EXPECT_EQ(fromProto(request).cpu, 3u);

  const auto event = toProto(container::ModuleEvent{
      .kind = container::ModuleEvent::Kind::kUpdated, .ns = "ns1", .id = "web",
      .message = "cpu=3"});
  EXPECT_EQ(event.kind(), v1::Event::UPDATED);
  EXPECT_EQ(event.message(), "cpu=3");
}

TEST(Conversions, EveryCodeHasItsGrpcCode) {
  EXPECT_EQ(toGrpcCode(Code::kInvalidArgument), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(toGrpcCode(Code::kNotFound), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(toGrpcCode(Code::kAlreadyExists), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(toGrpcCode(Code::kFailedPrecondition), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(toGrpcCode(Code::kUnavailable), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(toGrpcCode(Code::kDeadlineExceeded), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(toGrpcCode(Code::kInternal), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(toGrpcCode(Code::kUnknown), grpc::StatusCode::UNKNOWN);
}

TEST(Conversions, ErrorKeepsItsMessage) {
  const auto status = toGrpcStatus(notFound("container \"web\" in namespace \"ns1\": not found"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "container \"web\" in namespace \"ns1\": not found");
}

TEST(Conversions, LogsSinceNeverOverflows) {
  google::protobuf::Timestamp since;
  since.set_seconds(1700000000);
  since.set_nanos(5);
  EXPECT_EQ(sinceNanoseconds(since).value(), 1700000000LL * 1000000000 + 5);
  // Year 9999: past int64 nanoseconds, so later than every line (was: wrapped, every line).
  since.set_seconds(google::protobuf::util::TimeUtil::kTimestampMaxSeconds);
  since.set_nanos(0);
  EXPECT_EQ(sinceNanoseconds(since).value(), std::numeric_limits<std::int64_t>::max());
  since.set_seconds(-1000);  // before 1970: every line
  EXPECT_EQ(sinceNanoseconds(since).value(), 0);
  for (auto [seconds, nanos] : {std::pair<std::int64_t, std::int32_t>{INT64_MAX, 0},
                                {INT64_MIN, 0},
                                {0, -1},
                                {0, 1000000000}}) {
    since.set_seconds(seconds);
    since.set_nanos(nanos);
    auto refused = sinceNanoseconds(since);
    ASSERT_FALSE(refused) << seconds << " " << nanos;
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
    EXPECT_EQ(refused.error().message.rfind("since: ", 0), 0u) << refused.error().message;
  }
}

TEST(Conversions, ListPagesStayUnderTheLimitAndGoOnWhereTheyStopped) {
  // 30 containers of ~200 KiB each (two env strings of 100 KiB): about 6 MB in all.
  std::vector<container::ContainerInfo> sorted;
  for (const char* ns : {"a", "b"}) {
    for (int i = 10; i < 25; ++i) {
      container::ContainerInfo info;
      info.ns = ns;
      info.spec.name = "c" + std::to_string(i);
      info.spec.env = {"A=" + std::string(100 << 10, 'a'), "B=" + std::string(100 << 10, 'b')};
      sorted.push_back(std::move(info));
    }
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListResponse page;
    ASSERT_TRUE(fillListPage(sorted, token, page));
    EXPECT_LE(page.ByteSizeLong(), kListPageBytes + 64) << "page " << pages;
    ASSERT_GT(page.containers_size(), 0);
    for (const auto& info : page.containers()) {
      seen.push_back(info.namespace_() + "/" + info.spec().name());
    }
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 100);
  EXPECT_GE(pages, 3);
  ASSERT_EQ(seen.size(), sorted.size());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    EXPECT_EQ(seen[i], sorted[i].ns + "/" + sorted[i].spec.name);
  }
  // A small list is one page without a token; a token that is not ns/name is refused.
  v1::ListResponse one;
  ASSERT_TRUE(fillListPage({sorted.front()}, "", one));
  EXPECT_EQ(one.containers_size(), 1);
  EXPECT_TRUE(one.next_page_token().empty());
  for (const char* bad : {"nslash", "a/b/c"}) {
    v1::ListResponse refused_page;
    auto refused = fillListPage(sorted, bad, refused_page);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().message.rfind("page_token: ", 0), 0u);
  }
}

}  // namespace
}  // namespace contd::api
