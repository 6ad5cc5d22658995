#include "modules/containerd/grpc_connection.h"

#include <cstdlib>

#include "modules/common/call_observer.h"
#include "modules/common/logging.h"
#include "modules/common/names.h"
#include "modules/containerd/grpc_client.h"

namespace contd::containerd {

namespace {

constexpr char kNamespaceMetadata[] = "containerd-namespace";
constexpr char kLeaseMetadata[] = "containerd-lease";
// containerd's default max send size: a large container list must still fit.
constexpr int kMaxMessageBytes = 16 << 20;

}  // namespace

Connection::Connection(std::string socket_path, std::shared_ptr<grpc::Channel> ch)
    : channel(std::move(ch)),
      containers(containers_v1::Containers::NewStub(channel)),
      content(content_v1::Content::NewStub(channel)),
      diff(diff_v1::Diff::NewStub(channel)),
      events(events_v1::Events::NewStub(channel)),
      images(images_v1::Images::NewStub(channel)),
      leases(leases_v1::Leases::NewStub(channel)),
      namespaces(namespaces_v1::Namespaces::NewStub(channel)),
      snapshots(snapshots_v1::Snapshots::NewStub(channel)),
      tasks(tasks_v1::Tasks::NewStub(channel)),
      version(version_v1::Version::NewStub(channel)),
      socket_path_(std::move(socket_path)) {}

Result<std::shared_ptr<Connection>> Connection::open(std::string socket_path) {
  if (socket_path.empty()) {
    return invalidArgument("connect to containerd: empty socket path");
  }
  // gRPC 1.51 can leave a channel whose connection broke (containerd restarted) failing for
  // up to its 5 s backup-poll interval after containerd is back. The interval is read once,
  // from the environment, when gRPC initialises: that is at the first channel of the process,
  // which in contd is this one. An operator's own setting wins.
  ::setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", /*overwrite=*/0);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  // After a containerd restart the channel reconnects by itself; gRPC's default backoff
  // (1 s growing to 120 s) would leave us blind for long after containerd is back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  // One connection, one subchannel: do not share subchannels with other connections of the
  // process, so that one connection's state is its own.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
  return std::shared_ptr<Connection>(new Connection(std::move(socket_path), std::move(channel)));
}

Code grpcToCode(int grpc_status_code) {
  switch (static_cast<grpc::StatusCode>(grpc_status_code)) {
    case grpc::StatusCode::NOT_FOUND: return Code::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS: return Code::kAlreadyExists;
    case grpc::StatusCode::INVALID_ARGUMENT: return Code::kInvalidArgument;
    case grpc::StatusCode::FAILED_PRECONDITION: return Code::kFailedPrecondition;
    case grpc::StatusCode::UNAVAILABLE: return Code::kUnavailable;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return Code::kDeadlineExceeded;
    case grpc::StatusCode::UNAUTHENTICATED: return Code::kUnauthenticated;
    // containerd's errdefs.ErrUnknown ("cannot delete a running process"), and
    // cancellations, carry no more precise meaning.
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED: return Code::kUnknown;
    default: return Code::kInternal;
  }
}

namespace rpc {

std::string describe(const Call& call) {
  std::string text(call.what);
  if (call.ns_is_subject) {
    return text.append(" '").append(call.ns).append("'");
  }
  if (!call.id.empty()) {
    text.append(" '").append(call.id).append("'");
  }
  if (!call.ns.empty()) {
    text.append(" in '").append(call.ns).append("'");
  }
  return text;
}

Status prepare(grpc::ClientContext* context, const Call& call, std::chrono::milliseconds timeout,
               bool wait_for_ready) {
  if (!call.ns.empty() || call.needs_ns) {
    CONTD_RETURN_IF_ERROR(validateName("namespace", call.ns));
  }
  if (!call.lease.empty()) {
    CONTD_RETURN_IF_ERROR(validateName("lease", call.lease));
  }
  if (timeout != kNoDeadline) {
    context->set_deadline(std::chrono::system_clock::now() + timeout);
  }
  context->set_wait_for_ready(wait_for_ready);
  if (!call.ns.empty()) {
    context->AddMetadata(kNamespaceMetadata, std::string(call.ns));
  }
  if (!call.lease.empty()) {
    context->AddMetadata(kLeaseMetadata, std::string(call.lease));
  }
  return okStatus();
}

Status finish(const Call& call, const grpc::Status& status,
              std::chrono::system_clock::time_point deadline, std::chrono::milliseconds timeout,
              std::chrono::steady_clock::time_point start) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  Code code = Code::kUnknown;
  if (!status.ok()) {
    code = grpcToCode(status.error_code());
    // The deadline travels to containerd (grpc-timeout), and its own context may expire
    // first: it then answers UNKNOWN "context deadline exceeded" (seen on Tasks.Wait). A
    // failure that arrives once our deadline has passed is our deadline, whatever the code.
    if (std::chrono::system_clock::now() >= deadline) {
      code = Code::kDeadlineExceeded;
    }
  }
  const std::string_view code_name = status.ok() ? std::string_view("ok") : codeName(code);
  log::containerd()->debug("op={} ns={} id={} ms={:.2f} code={}", call.op, call.ns, call.id, ms,
                           code_name);
  observe::containerdCall(call.op, code_name, ms / 1000.0);
  if (status.ok()) {
    return okStatus();
  }
  if (code == Code::kDeadlineExceeded) {
    // gRPC's own text ("Deadline Exceeded") does not say which deadline.
    return makeError(
        code, describe(call) + ": deadline of " + std::to_string(timeout.count()) + " ms exceeded");
  }
  return makeError(code, describe(call) + ": " + status.error_message());
}

}  // namespace rpc
}  // namespace contd::containerd
