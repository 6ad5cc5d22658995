#pragma once
// The one place where contd's core types meet the contd.v1 protobuf messages, and where
// contd::Code becomes a gRPC status code. Pure functions: no I/O, callable from any thread.
//
// Conversions are total. Anything the proto can express that the core would refuse
// (a bad name, an unknown propagation mode) passes through unchanged and is rejected by
// the container module's validation, so the error wording lives in one place.

#include <chrono>
#include <cstdint>

#include <grpcpp/support/status.h>

#include "contd/v1/containers.pb.h"
#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/container/event_bus.h"

namespace contd::api {

container::ContainerSpec fromProto(const v1::ContainerSpec& proto);
v1::ContainerSpec toProto(const container::ContainerSpec& spec);

// Inspect/List answers. Unset times (0) stay unset in the message; exit_code is present
// only when the core reports one (>= 0).
v1::ContainerInfo toProto(const container::ContainerInfo& info);
// The reverse, for clients and tests. A message without exit_code gives -1.
container::ContainerInfo fromProto(const v1::ContainerInfo& proto);
v1::Event toProto(const container::ModuleEvent& event);
// A uint64 millisecond field as the core's duration, clamped at INT64_MAX instead of
// wrapping (the core refuses such values, naming the field).
std::chrono::milliseconds millisFromProto(std::uint64_t ms);
// Update's limits: a field the request leaves unset stays unset.
container::LimitsUpdate fromProto(const v1::UpdateRequest& proto);
// Health (RunHealthCheck, ContainerInfo.health); unset times stay unset.
v1::HealthResult toProto(const container::HealthResult& result);
v1::HealthState toProto(const container::HealthState& state);

v1::ContainerInfo::Status toProto(container::ContainerStatus status);

// The most one List answer holds (its containers' encoded size; one container always fits,
// as a spec is bounded far below).
inline constexpr std::size_t kListPageBytes = 2 << 20;

// One page of `sorted` (by namespace, then name) into `response`: the containers after
// `page_token` ("<ns>/<name>" of the last one sent, or empty) while they fit kListPageBytes,
// and next_page_token when some are left. Errors (kInvalidArgument, "page_token: ..."): a
// token that is not "<ns>/<name>".
Status fillListPage(const std::vector<container::ContainerInfo>& sorted,
                    const std::string& page_token, v1::ListResponse& response);

// A Logs `since` as nanoseconds since the epoch, without overflow: before 1970 is 0 (every
// line), after 2262 (past int64 nanoseconds) is INT64_MAX (no line yet). Errors
// (kInvalidArgument, "since: ..."): a timestamp outside protobuf's valid range (years
// 0001-9999, nanos 0-999999999).
Result<std::int64_t> sinceNanoseconds(const google::protobuf::Timestamp& since);
container::ContainerStatus fromProto(v1::ContainerInfo::Status status);

// kInvalidArgument -> INVALID_ARGUMENT, kNotFound -> NOT_FOUND, ... ; kInternal -> INTERNAL,
// kUnknown -> UNKNOWN.
grpc::StatusCode toGrpcCode(Code code);
// The error's code and message, unchanged.
grpc::Status toGrpcStatus(const Error& error);

}  // namespace contd::api
