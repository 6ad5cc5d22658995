#pragma once
// Private to modules/containerd/grpc_*.cc: what GrpcClient's files share besides the call
// layer (grpc_connection.h): containerd's timestamps and its filter syntax.

#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <string_view>

#include "modules/containerd/client.h"

namespace contd::containerd::grpc_detail {

inline UnixNanos toUnixNanos(const google::protobuf::Timestamp& ts) {
  // Go's zero time.Time (year 1) arrives as a large negative value: it means "unset".
  if (ts.seconds() <= 0) {
    return 0;
  }
  return ts.seconds() * 1'000'000'000 + ts.nanos();
}

// containerd's filter syntax quotes with "..." and Go-like escapes (filters/quote.go).
std::string quoteFilter(std::string_view text);

}  // namespace contd::containerd::grpc_detail
