// The standard gRPC services on contd's socket, called like any gRPC tool would: the
// grpc.health.v1 health service (SERVING only while containerd answers) and server
// reflection (grpc.reflection.v1alpha lists contd.v1.Containers). The calls are made with
// gRPC's generic stub on hand-encoded protobuf (a few bytes), so the test needs no
// generated code of those services.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <grpcpp/channel.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "tests/integration/support/daemon_fixture.h"

namespace contd {
namespace {

namespace support = ::contd::testing;
using std::chrono::milliseconds;

grpc::ByteBuffer toBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string fromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// Waits for the one operation in flight on `cq`; its ok flag.
bool await(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  return cq.Next(&tag, &ok) && ok;
}

// grpc.health.v1.Health/Check for `service`: 1 SERVING, 2 NOT_SERVING, ...; nullopt when the
// call fails (the code and message in *error).
std::optional<int> healthCheck(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& service, std::string* error) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  // HealthCheckRequest { string service = 1; }
  std::string request;
  if (!service.empty()) {
    request = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
  }
  const auto bytes = toBuffer(request);
  auto call = stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", bytes, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  await(cq);
  if (!status.ok()) {
    *error = std::to_string(status.error_code()) + " " + status.error_message();
    return std::nullopt;
  }
  // HealthCheckResponse { ServingStatus status = 1; }: 08 <status>, or empty for 0 (UNKNOWN).
  const std::string reply = fromBuffer(response);
  return reply.size() == 2 && reply[0] == '\x08' ? reply[1] : 0;
}

// ServerReflectionInfo with list_services "*": the raw response (its service names appear
// in it as strings), or "" when the call fails.
std::string reflectionList(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  if (!await(cq)) {
    return "";
  }
  // ServerReflectionRequest { string list_services = 7; }
  call->Write(toBuffer(std::string("\x3a\x01*", 3)), reinterpret_cast<void*>(2));
  if (!await(cq)) {
    return "";
  }
  call->WritesDone(reinterpret_cast<void*>(3));
  await(cq);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  const bool got = await(cq);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  await(cq);
  return got && status.ok() ? fromBuffer(response) : "";
}

class GrpcHealthIT : public support::DaemonFixture {
protected:
  GrpcHealthIT() : DaemonFixture({.ns_prefix = "ghealth", .dir_prefix = "contd-ghealth"}) {}

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    // A quick probe, so the health status follows containerd within a fraction of a second.
    const auto config = dir_->path() / "contd.json";
    std::ofstream(config) << "{\"status_interval_ms\": 200}\n";
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--config", config.string()}));
    channel_ = grpc::CreateChannel("unix:" + daemon_->socketPath(),
                                   grpc::InsecureChannelCredentials());
  }

  // Polls Check("") until it reports `want`, for up to 20 s; the last answer.
  std::optional<int> awaitHealth(int want) {
    std::optional<int> got;
    std::string error;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
         std::chrono::steady_clock::now() < until;) {
      got = healthCheck(channel_, "", &error);
      if (got == want) {
        break;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return got;
  }

  std::shared_ptr<grpc::Channel> channel_;
};

constexpr int kServing = 1;
constexpr int kNotServing = 2;

TEST_F(GrpcHealthIT, HealthFollowsContainerdAndReflectionListsTheServices) {
  std::string error;
  // The socket accepts calls a moment before contd is ready (metrics started, containerd
  // answered): NOT_SERVING until then.
  EXPECT_EQ(awaitHealth(kServing), kServing);
  EXPECT_EQ(healthCheck(channel_, "contd.v1.Containers", &error), kServing) << error;
  // A service contd does not have: NOT_FOUND, as the protocol says.
  EXPECT_EQ(healthCheck(channel_, "no.such.Service", &error), std::nullopt);
  EXPECT_TRUE(error.starts_with("5 ")) << error;  // grpc::StatusCode::NOT_FOUND

  const std::string listed = reflectionList(channel_);
  EXPECT_NE(listed.find("contd.v1.Containers"), std::string::npos) << listed;
  EXPECT_NE(listed.find("grpc.health.v1.Health"), std::string::npos) << listed;

  // containerd away: NOT_SERVING while the API still answers; back: SERVING again.
  ASSERT_TRUE(containerd_->stop());
  EXPECT_EQ(awaitHealth(kNotServing), kNotServing);
  ASSERT_TRUE(containerd_->restart());
  EXPECT_EQ(awaitHealth(kServing), kServing);
}

}  // namespace
}  // namespace contd
