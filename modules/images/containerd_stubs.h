#pragma once
// Internal to contd_images_grpc: containerd's service stubs on one channel, where a call
// happens (namespace and lease), and the call helpers every file of the module shares.
// Nothing outside modules/images includes this.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/content/v1/content.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/diff/v1/diff.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "modules/common/result.h"
#include "modules/images/image_store.h"

namespace contd::images::detail {

namespace containers_v1 = ::containerd::services::containers::v1;
namespace content_v1 = ::containerd::services::content::v1;
namespace diff_v1 = ::containerd::services::diff::v1;
namespace images_v1 = ::containerd::services::images::v1;
namespace leases_v1 = ::containerd::services::leases::v1;
namespace snapshots_v1 = ::containerd::services::snapshots::v1;

struct Stubs {
  explicit Stubs(std::shared_ptr<grpc::Channel> ch)
      : channel(std::move(ch)),
        containers(containers_v1::Containers::NewStub(channel)),
        content(content_v1::Content::NewStub(channel)),
        diff(diff_v1::Diff::NewStub(channel)),
        images(images_v1::Images::NewStub(channel)),
        leases(leases_v1::Leases::NewStub(channel)),
        snapshots(snapshots_v1::Snapshots::NewStub(channel)) {}

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<containers_v1::Containers::Stub> containers;
  std::unique_ptr<content_v1::Content::Stub> content;
  std::unique_ptr<diff_v1::Diff::Stub> diff;
  std::unique_ptr<images_v1::Images::Stub> images;
  std::unique_ptr<leases_v1::Leases::Stub> leases;
  std::unique_ptr<snapshots_v1::Snapshots::Stub> snapshots;
  std::atomic<std::uint64_t> blobs_written{0};  // committed Content.Write streams
};

// Where one RPC happens: the namespace always, the lease during an import or a pull.
struct Scope {
  std::string_view ns;
  std::string lease;
};

// Deadline, namespace and lease metadata of one call. gRPC aborts the process on a metadata
// value it cannot send, so a namespace or lease outside containerd's identifier rule is
// refused here and nothing is sent.
Status prepare(grpc::ClientContext* ctx, const Scope& scope, std::chrono::milliseconds timeout);
// containerd's status as contd's, behind `what` and the namespace.
Status toStatus(const grpc::Status& status, std::string_view op, std::string_view what,
                const Scope& scope);

// One unary call: `rpc(ctx)` returns the grpc::Status.
template <typename Rpc>
Status invoke(std::string_view op, std::string_view what, const Scope& scope,
              std::chrono::milliseconds timeout, Rpc&& rpc) {
  grpc::ClientContext ctx;
  CONTD_RETURN_IF_ERROR(prepare(&ctx, scope, timeout));
  return toStatus(rpc(&ctx), op, what, scope);
}

bool isNotFound(const Status& status);
std::string randomHex(std::size_t n);
std::string rfc3339(std::time_t when);

// Snapshots.Prepare / Snapshots.Remove (ok when it does not exist) on kSnapshotter.
Result<std::vector<SnapshotMount>> prepareSnapshot(Stubs& stubs, const Scope& scope,
                                                   std::string_view key, std::string_view parent,
                                                   std::chrono::milliseconds timeout);
Status removeSnapshot(Stubs& stubs, const Scope& scope, std::string_view key,
                      std::chrono::milliseconds timeout);
// A small blob (manifest, config) whole from the content store; kInvalidArgument above
// 4 MiB.
Result<std::string> readSmallBlob(Stubs& stubs, const Scope& scope, const std::string& digest,
                                  std::chrono::milliseconds timeout);

}  // namespace contd::images::detail
