#include "modules/images/shared_calls.h"

#include <google/protobuf/empty.pb.h>

#include <random>

namespace contd::images::detail {

namespace {

std::vector<SnapshotMount> fromProto(
    const google::protobuf::RepeatedPtrField<::containerd::types::Mount>& mounts) {
  std::vector<SnapshotMount> result;
  for (const auto& m : mounts) {
    result.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  return result;
}

}  // namespace

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

Result<std::vector<SnapshotMount>> prepareSnapshot(Connection& connection, std::string_view ns,
                                                   std::string_view lease, std::string_view key,
                                                   std::string_view parent,
                                                   std::chrono::milliseconds timeout) {
  snapshots_v1::PrepareSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  request.set_parent(std::string(parent));
  snapshots_v1::PrepareSnapshotResponse response;
  CONTD_RETURN_IF_ERROR(
      rpc::invoke(imageCall("snapshots.Prepare", "prepare snapshot", ns, key, lease), timeout,
                  [&](grpc::ClientContext* ctx) {
                    return connection.snapshots->Prepare(ctx, request, &response);
                  }));
  return fromProto(response.mounts());
}

Status removeSnapshot(Connection& connection, std::string_view ns, std::string_view lease,
                      std::string_view key, std::chrono::milliseconds timeout) {
  snapshots_v1::RemoveSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  google::protobuf::Empty response;
  const Status status =
      rpc::invoke(imageCall("snapshots.Remove", "remove snapshot", ns, key, lease), timeout,
                  [&](grpc::ClientContext* ctx) {
                    return connection.snapshots->Remove(ctx, request, &response);
                  });
  return isNotFound(status) ? okStatus() : status;
}

Result<std::string> readSmallBlob(Connection& connection, std::string_view ns,
                                  std::string_view lease, const std::string& digest,
                                  std::chrono::milliseconds timeout) {
  constexpr std::size_t kLimit = 4u << 20;
  content_v1::ReadContentRequest request;
  request.set_digest(digest);
  std::string data;
  const std::string what = "read blob " + digest;
  CONTD_RETURN_IF_ERROR(rpc::invoke(imageCall("content.Read", what, ns, "", lease), timeout,
                                    [&](grpc::ClientContext* ctx) {
                                      auto reader = connection.content->Read(ctx, request);
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
