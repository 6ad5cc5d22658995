#include "modules/images/containerd_stubs.h"

#include <google/protobuf/empty.pb.h>

#include <random>

#include "modules/common/logging.h"
#include "modules/common/names.h"
#include "modules/containerd/grpc_client.h"

namespace contd::images::detail {

namespace {
constexpr char kLeaseMetadata[] = "containerd-lease";
constexpr char kNamespaceMetadata[] = "containerd-namespace";

std::vector<SnapshotMount> fromProto(
    const google::protobuf::RepeatedPtrField<::containerd::types::Mount>& mounts) {
  std::vector<SnapshotMount> result;
  for (const auto& m : mounts) {
    result.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  return result;
}
}  // namespace

Status prepare(grpc::ClientContext* ctx, const Scope& scope, std::chrono::milliseconds timeout) {
  CONTD_RETURN_IF_ERROR(validateName("namespace", scope.ns));
  if (!scope.lease.empty()) {
    CONTD_RETURN_IF_ERROR(validateName("lease", scope.lease));
  }
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  ctx->AddMetadata(kNamespaceMetadata, std::string(scope.ns));
  if (!scope.lease.empty()) {
    ctx->AddMetadata(kLeaseMetadata, scope.lease);
  }
  return okStatus();
}

Status toStatus(const grpc::Status& status, std::string_view op, std::string_view what,
                const Scope& scope) {
  log::containerd()->debug("op={} ns={} code={}", op, scope.ns,
                           status.ok() ? 0 : static_cast<int>(status.error_code()));
  if (status.ok()) {
    return okStatus();
  }
  return makeError(containerd::grpcToCode(status.error_code()),
                   std::string(what) + " in '" + std::string(scope.ns) +
                       "': " + status.error_message());
}

bool isNotFound(const Status& status) { return !status && status.error().code == Code::kNotFound; }

std::string randomHex(std::size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < n; ++i) {
    text += kHex[rng() & 0xf];
  }
  return text;
}

std::string rfc3339(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

Result<std::vector<SnapshotMount>> prepareSnapshot(Stubs& stubs, const Scope& scope,
                                                   std::string_view key, std::string_view parent,
                                                   std::chrono::milliseconds timeout) {
  snapshots_v1::PrepareSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  request.set_parent(std::string(parent));
  snapshots_v1::PrepareSnapshotResponse response;
  CONTD_RETURN_IF_ERROR(invoke("snapshots.Prepare", "prepare snapshot '" + std::string(key) + "'",
                               scope, timeout, [&](grpc::ClientContext* ctx) {
                                 return stubs.snapshots->Prepare(ctx, request, &response);
                               }));
  return fromProto(response.mounts());
}

Status removeSnapshot(Stubs& stubs, const Scope& scope, std::string_view key,
                      std::chrono::milliseconds timeout) {
  snapshots_v1::RemoveSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  google::protobuf::Empty response;
  const Status status = invoke("snapshots.Remove", "remove snapshot '" + std::string(key) + "'",
                               scope, timeout, [&](grpc::ClientContext* ctx) {
                                 return stubs.snapshots->Remove(ctx, request, &response);
                               });
  return isNotFound(status) ? okStatus() : status;
}

Result<std::string> readSmallBlob(Stubs& stubs, const Scope& scope, const std::string& digest,
                                  std::chrono::milliseconds timeout) {
  constexpr std::size_t kLimit = 4u << 20;
  content_v1::ReadContentRequest request;
  request.set_digest(digest);
  std::string data;
  CONTD_RETURN_IF_ERROR(invoke("content.Read", "read blob " + digest, scope, timeout,
                               [&](grpc::ClientContext* ctx) {
                                 auto reader = stubs.content->Read(ctx, request);
                                 content_v1::ReadContentResponse chunk;
                                 while (reader->Read(&chunk)) {
                                   data += chunk.data();
                                   if (data.size() > kLimit) {
                                     ctx->TryCancel();
                                     break;
                                   }
                                 }
                                 return reader->Finish();
                               }));
  if (data.size() > kLimit) {
    return invalidArgument("blob " + digest + " is larger than 4 MiB");
  }
  return data;
}

}  // namespace contd::images::detail
