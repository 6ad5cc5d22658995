#pragma once
// Private to modules/containerd/grpc_*.cc: the generated stubs GrpcClient keeps behind its
// pimpl, and the one helper that runs an RPC (deadline, namespace metadata, debug log, error
// mapping). This header includes generated containerd types: never include it from a header
// or from outside this folder.

#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/namespaces/v1/namespace.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/version/v1/version.grpc.pb.h"
#include "modules/common/logging.h"
#include "modules/common/names.h"
#include "modules/common/result.h"
#include "modules/containerd/client.h"
#include "modules/containerd/grpc_client.h"

namespace contd::containerd {

namespace containers_v1 = ::containerd::services::containers::v1;
namespace events_v1 = ::containerd::services::events::v1;
namespace namespaces_v1 = ::containerd::services::namespaces::v1;
namespace tasks_v1 = ::containerd::services::tasks::v1;
namespace version_v1 = ::containerd::services::version::v1;
namespace types_v1 = ::containerd::v1::types;

struct GrpcClient::Stubs {
  explicit Stubs(std::shared_ptr<grpc::Channel> ch)
      : channel(std::move(ch)),
        containers(containers_v1::Containers::NewStub(channel)),
        events(events_v1::Events::NewStub(channel)),
        namespaces(namespaces_v1::Namespaces::NewStub(channel)),
        tasks(tasks_v1::Tasks::NewStub(channel)),
        version(version_v1::Version::NewStub(channel)) {}

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<containers_v1::Containers::Stub> containers;
  std::unique_ptr<events_v1::Events::Stub> events;
  std::unique_ptr<namespaces_v1::Namespaces::Stub> namespaces;
  std::unique_ptr<tasks_v1::Tasks::Stub> tasks;
  std::unique_ptr<version_v1::Version::Stub> version;
};

namespace grpc_detail {

inline constexpr char kNamespaceMetadata[] = "containerd-namespace";

// What one RPC is about: `op` names the RPC in logs (so per-step timings can be grepped),
// `what` starts the error message. When `ns_is_subject`, the namespace is the object of the
// call ("create namespace 'ns1'") rather than where it happens. It is sent as metadata all
// the same: Namespaces.Create commits the namespace and then fails with "failed publishing
// event: namespace is required" when the call itself carries none.
struct Call {
  std::string_view op;
  std::string_view what;
  std::string_view ns;
  std::string_view id;
  bool ns_is_subject = false;
};

// "create task 'web' in 'ns1'"
std::string describe(const Call& call);

// Maps a finished RPC to a Status (logging it at debug): `deadline` is the call's own, so a
// failure that arrives after it is reported as kDeadlineExceeded whatever the code.
Status finish(const Call& call, const grpc::Status& status,
              std::chrono::system_clock::time_point deadline, std::chrono::milliseconds timeout,
              std::chrono::steady_clock::time_point start);

// Runs one RPC with a deadline and the namespace metadata, logs it, and turns a failed
// grpc::Status into an Error that says what was being done. `rpc` gets the prepared context.
template <typename Rpc>
Status invoke(const Call& call, std::chrono::milliseconds timeout, Rpc&& rpc,
              bool wait_for_ready = false) {
  grpc::ClientContext context;
  const auto deadline = std::chrono::system_clock::now() + timeout;
  context.set_deadline(deadline);
  // Without wait_for_ready a call fails at once while containerd is down, instead of
  // hanging until its deadline; connect() is the exception (containerd may be starting).
  context.set_wait_for_ready(wait_for_ready);
  if (!call.ns.empty()) {
    // gRPC aborts the process on a metadata value it cannot send (a newline, a byte outside
    // printable ASCII): whatever slipped past the adapters' validation stops here.
    CONTD_RETURN_IF_ERROR(validateName("namespace", call.ns));
    context.AddMetadata(kNamespaceMetadata, std::string(call.ns));
  }
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status = rpc(&context);
  return finish(call, status, deadline, timeout, start);
}

inline UnixNanos toUnixNanos(const google::protobuf::Timestamp& ts) {
  // Go's zero time.Time (year 1) arrives as a large negative value: it means "unset".
  if (ts.seconds() <= 0) {
    return 0;
  }
  return ts.seconds() * 1'000'000'000 + ts.nanos();
}

// containerd's filter syntax quotes with "..." and Go-like escapes (filters/quote.go).
std::string quoteFilter(std::string_view text);

}  // namespace grpc_detail
}  // namespace contd::containerd
