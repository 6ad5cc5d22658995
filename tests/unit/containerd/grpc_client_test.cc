// The pure parts of GrpcClient: no containerd, no socket.

#include "modules/containerd/grpc_client.h"

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

namespace contd::containerd {
namespace {

TEST(GrpcToCode, MapsContainerdErrdefs) {
  EXPECT_EQ(grpcToCode(grpc::StatusCode::NOT_FOUND), Code::kNotFound);
  EXPECT_EQ(grpcToCode(grpc::StatusCode::ALREADY_EXISTS), Code::kAlreadyExists);
  EXPECT_EQ(grpcToCode(grpc::StatusCode::INVALID_ARGUMENT), Code::kInvalidArgument);
  EXPECT_EQ(grpcToCode(grpc::StatusCode::FAILED_PRECONDITION), Code::kFailedPrecondition);
  EXPECT_EQ(grpcToCode(grpc::StatusCode::UNAVAILABLE), Code::kUnavailable);
  EXPECT_EQ(grpcToCode(grpc::StatusCode::DEADLINE_EXCEEDED), Code::kDeadlineExceeded);
  EXPECT_EQ(grpcToCode(grpc::StatusCode::UNKNOWN), Code::kUnknown);
  EXPECT_EQ(grpcToCode(grpc::StatusCode::UNIMPLEMENTED), Code::kInternal);
  EXPECT_EQ(grpcToCode(grpc::StatusCode::INTERNAL), Code::kInternal);
}

TEST(LabelFilter, QuotesKeysAndValues) {
  EXPECT_EQ(labelFilter({}), "");
  EXPECT_EQ(labelFilter({{"io.contd.managed", "true"}}), R"(labels."io.contd.managed"=="true")");
  EXPECT_EQ(labelFilter({{"a", "x"}, {"b\"\\", "1\n"}}),
            R"(labels."a"=="x",labels."b\"\\"=="1\x0a")");
}

}  // namespace
}  // namespace contd::containerd
