#pragma once
// One pull from a registry into containerd (GrpcImageStore::pullImage):
//
//   parse ref -> GET manifest (tag) -> index? GET the linux/<arch> manifest (by digest)
//   -> lease -> config (fetched unless present) -> manifest blob and its GC labels
//   -> layers the content store lacks, fetched by up to `parallel_fetches` threads, each
//      HTTP body streamed into a Content.Write (1 MiB chunks: memory does not grow with
//      layer size); meanwhile the calling thread unpacks layer i as soon as layers 0..i
//      are in -> config label and image record (ingest_session.h) -> lease deleted.
//
// A failure deletes the lease with a synchronous GC, except when the registry went away
// or stalled (kUnavailable, kDeadlineExceeded) or the caller cancelled: then what was
// fetched whole stays under the lease until it expires (1 h), and a retry fetches only the
// rest.
//
// Internal to contd_images_grpc.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "modules/common/result.h"
#include "modules/images/image_store.h"
#include "modules/images/ingest_session.h"
#include "modules/images/shared_calls.h"
#include "modules/registry/http_client.h"

namespace contd::images::detail {

struct PullSettings {
  Timeouts timeouts;
  std::size_t parallel_fetches = 3;
  std::shared_ptr<registry::HttpClient> http;
};

// The image as registered (under the normalised name). Committed blobs count in
// `blobs_written`.
Result<ImageInfo> pullImage(Connection& connection, std::atomic<std::uint64_t>& blobs_written,
                            std::string_view ns, const PullRequest& request,
                            const PullProgressFn& progress, const PullSettings& settings);

}  // namespace contd::images::detail
