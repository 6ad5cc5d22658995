#pragma once
// For the gRPC implementations in modules/containerd and modules/images only; never include
// from a header outside those. It includes containerd's generated types, which the layering
// keeps out of every public header (docs/architecture.md).
//
// The one containerd call layer of contd:
//   Connection   the channel to containerd's socket and a stub for every containerd service
//                contd uses. GrpcClient opens it; GrpcImageStore is made over the same one
//                (GrpcClient::connection()), so whatever revives the channel after a
//                containerd restart (GrpcClient::subscribe() waiting for it to connect)
//                revives it for the image store too.
//   Call         what one RPC is about, for its metadata, its log line and its error.
//   prepare()    deadline, wait_for_ready, namespace and lease metadata of a context.
//   finish()     a finished RPC's grpc::Status as a contd::Status, logged.
//   invoke()     prepare(), the RPC, finish(): one unary call (or a stream read whole).
// Streaming calls that outlive one function (Content.Write, Events.Subscribe) call
// prepare() on their own context and finish() when the stream ends.
//
// Thread-safety: a Connection is shared by every thread, as gRPC stubs and channels are.

#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/content/v1/content.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/diff/v1/diff.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/namespaces/v1/namespace.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/version/v1/version.grpc.pb.h"
#include "modules/common/result.h"

namespace contd::containerd {

namespace containers_v1 = ::containerd::services::containers::v1;
namespace content_v1 = ::containerd::services::content::v1;
namespace diff_v1 = ::containerd::services::diff::v1;
namespace events_v1 = ::containerd::services::events::v1;
namespace images_v1 = ::containerd::services::images::v1;
namespace leases_v1 = ::containerd::services::leases::v1;
namespace namespaces_v1 = ::containerd::services::namespaces::v1;
namespace snapshots_v1 = ::containerd::services::snapshots::v1;
namespace tasks_v1 = ::containerd::services::tasks::v1;
namespace version_v1 = ::containerd::services::version::v1;
namespace types_v1 = ::containerd::v1::types;

class Connection {
public:
  // Opens the channel to containerd's socket; no call is made (GrpcClient::connect checks
  // that containerd answers). kInvalidArgument for an empty path.
  static Result<std::shared_ptr<Connection>> open(std::string socket_path);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& socketPath() const { return socket_path_; }

  // The stubs are members, not accessors, because generated stub methods are non-const;
  // the pointers themselves never change.
  const std::shared_ptr<grpc::Channel> channel;
  const std::unique_ptr<containers_v1::Containers::Stub> containers;
  const std::unique_ptr<content_v1::Content::Stub> content;
  const std::unique_ptr<diff_v1::Diff::Stub> diff;
  const std::unique_ptr<events_v1::Events::Stub> events;
  const std::unique_ptr<images_v1::Images::Stub> images;
  const std::unique_ptr<leases_v1::Leases::Stub> leases;
  const std::unique_ptr<namespaces_v1::Namespaces::Stub> namespaces;
  const std::unique_ptr<snapshots_v1::Snapshots::Stub> snapshots;
  const std::unique_ptr<tasks_v1::Tasks::Stub> tasks;
  const std::unique_ptr<version_v1::Version::Stub> version;

private:
  Connection(std::string socket_path, std::shared_ptr<grpc::Channel> ch);

  std::string socket_path_;
};

namespace rpc {

// What one RPC is about: `op` names the RPC in logs (so per-step timings can be grepped),
// `what` starts the error message, `id` is its object. `ns` and `lease` travel as gRPC
// metadata when not empty; the lease puts what the call creates under it (an ingest).
// When `ns_is_subject`, the namespace is the object of the call ("create namespace 'ns1'")
// rather than where it happens. It is sent as metadata all the same: Namespaces.Create
// commits the namespace and then fails with "failed publishing event: namespace is
// required" when the call itself carries none. `needs_ns` refuses an empty namespace
// before anything is sent (the image store's calls all happen in one) instead of letting
// containerd answer.
struct Call {
  std::string_view op;
  std::string_view what;
  std::string_view ns;
  std::string_view id;
  std::string_view lease;
  bool ns_is_subject = false;
  bool needs_ns = false;
};

// A timeout that sets no deadline: for streams that last as long as their owner wants
// (Events.Subscribe).
inline constexpr std::chrono::milliseconds kNoDeadline = std::chrono::milliseconds::max();

// "create task 'web' in 'ns1'"
std::string describe(const Call& call);

// Sets the deadline (now + timeout), wait_for_ready and the namespace and lease metadata of
// `context`. Without wait_for_ready a call fails at once while containerd is down, instead
// of hanging until its deadline; GrpcClient::connect is the exception (containerd may be
// starting). gRPC aborts the process on a metadata value it cannot send (a newline, a byte
// outside printable ASCII), so the namespace and the lease are checked with validateName
// first, whatever the callers checked: kInvalidArgument, and `context` is left untouched.
Status prepare(grpc::ClientContext* context, const Call& call, std::chrono::milliseconds timeout,
               bool wait_for_ready = false);

// Maps a finished RPC to a Status and logs it at debug (op=, ns=, id=, ms=, code=).
// `deadline` is the call's own (context.deadline()): a failure that arrives after it is
// reported as kDeadlineExceeded whatever the code, since containerd shares the deadline and
// may answer UNKNOWN "context deadline exceeded" first. The error reads
// "<describe(call)>: <containerd's message>".
Status finish(const Call& call, const grpc::Status& status,
              std::chrono::system_clock::time_point deadline, std::chrono::milliseconds timeout,
              std::chrono::steady_clock::time_point start);

// Runs one RPC: `rpc` gets the prepared context and returns the grpc::Status.
template <typename Rpc>
Status invoke(const Call& call, std::chrono::milliseconds timeout, Rpc&& rpc,
              bool wait_for_ready = false) {
  grpc::ClientContext context;
  CONTD_RETURN_IF_ERROR(prepare(&context, call, timeout, wait_for_ready));
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status = std::forward<Rpc>(rpc)(&context);
  return finish(call, status, context.deadline(), timeout, start);
}

}  // namespace rpc
}  // namespace contd::containerd
