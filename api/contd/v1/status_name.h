#pragma once
// The name of a gRPC status code as gRPC spells it ("NOT_FOUND"), for logs and for the
// messages contctl prints. Shared by the server and the client of contd's API.

#include <string_view>

#include <grpcpp/support/status.h>

namespace contd::api {

std::string_view grpcCodeName(grpc::StatusCode code);

}  // namespace contd::api
