#pragma once
// Internal to contd_images_grpc: the containerd calls that more than one file of the module
// makes (snapshots Prepare and Remove, reading a small blob), and the small functions they
// share. The calls go over the one call layer of modules/containerd (grpc_connection.h),
// on the connection GrpcClient opened. Nothing outside modules/images includes this.

#include <chrono>
#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/containerd/grpc_connection.h"
#include "modules/images/image_store.h"

namespace contd::images::detail {

using containerd::Connection;
namespace rpc = containerd::rpc;
namespace containers_v1 = containerd::containers_v1;
namespace content_v1 = containerd::content_v1;
namespace diff_v1 = containerd::diff_v1;
namespace images_v1 = containerd::images_v1;
namespace leases_v1 = containerd::leases_v1;
namespace snapshots_v1 = containerd::snapshots_v1;

// One call of the image module. Every one happens in a namespace, so an empty `ns` is
// refused before anything is sent (needs_ns), as a malformed one is; `lease` is the
// ingest's, if any. The error reads "<what> '<id>' in '<ns>': ..." ("<what> in '<ns>'"
// without an id).
inline rpc::Call imageCall(std::string_view op, std::string_view what, std::string_view ns,
                           std::string_view id = {}, std::string_view lease = {}) {
  return rpc::Call{.op = op, .what = what, .ns = ns, .id = id, .lease = lease, .needs_ns = true};
}

bool isNotFound(const Status& status);
std::string randomHex(std::size_t n);

// Snapshots.Prepare / Snapshots.Remove (ok when it does not exist) on kSnapshotter.
Result<std::vector<SnapshotMount>> prepareSnapshot(Connection& connection, std::string_view ns,
                                                   std::string_view lease, std::string_view key,
                                                   std::string_view parent,
                                                   std::chrono::milliseconds timeout);
Status removeSnapshot(Connection& connection, std::string_view ns, std::string_view lease,
                      std::string_view key, std::chrono::milliseconds timeout);
// A small blob (manifest, config) whole from the content store; kInvalidArgument above
// 4 MiB.
Result<std::string> readSmallBlob(Connection& connection, std::string_view ns,
                                  std::string_view lease, const std::string& digest,
                                  std::chrono::milliseconds timeout);

}  // namespace contd::images::detail
