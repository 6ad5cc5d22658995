#pragma once
// ImageStore over containerd's gRPC API (content, images, snapshots, diff and leases
// services), on the connection of the process's GrpcClient (GrpcClient::connection()): one
// channel to containerd, revived after a containerd restart for both alike.
//
// Import (here), step by step:
//   1. read the archive once: hash every file, check blob names, pick the manifest
//      (import_plan.h). A bad archive fails here, before containerd is touched.
//   2. a lease (ingest_session.h); every later call carries it.
//   3. Content.Info per blob; missing ones are written with Content.Write from a second
//      read of the archive.
//   4. GC labels, unpack, image record, lease deleted (ingest_session.h).
// Pull (image_pull.h): the same, with the blobs fetched from a registry in parallel.
// The image record is written last, so a failure leaves no image.
//
// Thread-safety: as ImageStore.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "modules/images/image_store.h"
#include "modules/registry/http_client.h"

namespace contd::containerd {
class Connection;  // grpc_connection.h
}

namespace contd::images {

class GrpcImageStore final : public ImageStore {
public:
  struct Options {
    std::chrono::milliseconds call_timeout{30'000};
    // Content.Write of one blob and Diff.Apply of one layer.
    std::chrono::milliseconds transfer_timeout{600'000};
    // Layers fetched at once by one pull.
    std::size_t parallel_fetches = 3;
    // The HTTP client pulls use; null: a CurlHttpClient made at the first pull.
    std::shared_ptr<registry::HttpClient> http;
  };

  // A store over `connection` (GrpcClient::connection()); no call is made. The store keeps
  // the connection alive. kInvalidArgument for a null connection.
  static Result<std::unique_ptr<GrpcImageStore>> create(
      std::shared_ptr<containerd::Connection> connection);
  static Result<std::unique_ptr<GrpcImageStore>> create(
      std::shared_ptr<containerd::Connection> connection, Options options);
  ~GrpcImageStore() override;

  Result<ImageInfo> importImage(std::string_view ns, const std::string& archive_path,
                                std::string_view name) override;
  Result<ImageInfo> pullImage(std::string_view ns, const PullRequest& request,
                              const PullProgressFn& progress) override;
  Result<ImageInfo> getImage(std::string_view ns, std::string_view name) override;
  Result<std::vector<ImageInfo>> listImages(std::string_view ns) override;
  // How many images containerd holds in `ns` (one images.List, no manifest read): what
  // listImages would answer, counted.
  Result<std::size_t> countImages(std::string_view ns);
  Status removeImage(std::string_view ns, std::string_view name) override;
  Result<std::vector<SnapshotMount>> prepareSnapshot(std::string_view ns, std::string_view key,
                                                     std::string_view parent) override;
  Result<std::vector<SnapshotMount>> snapshotMounts(std::string_view ns,
                                                    std::string_view key) override;
  Status removeSnapshot(std::string_view ns, std::string_view key) override;
  Result<bool> hasSnapshot(std::string_view ns, std::string_view key) override;
  Result<std::optional<std::string>> readImageFile(std::string_view ns, std::string_view chain_id,
                                                   const std::string& path,
                                                   std::size_t max_bytes) override;

  // The ids of containerd's leases in `ns` (imports delete theirs when they end).
  Result<std::vector<std::string>> listLeases(std::string_view ns);
  // How many Content.Write streams this store has committed (for tests of caching).
  std::uint64_t blobsWritten() const;

private:
  GrpcImageStore(Options options, std::shared_ptr<containerd::Connection> connection);

  Result<std::shared_ptr<registry::HttpClient>> httpClient();
  // `registered_ns`: containerd's created_at of the image record, the creation time of an
  // image whose config has none.
  Result<ImageInfo> describe(std::string_view ns, const std::string& name,
                             const std::string& media_type, const std::string& manifest_digest,
                             std::uint64_t manifest_size, std::int64_t registered_ns);

  Options options_;
  std::shared_ptr<containerd::Connection> connection_;
  std::atomic<std::uint64_t> blobs_written_{0};  // committed Content.Write streams
  std::mutex http_mutex_;  // guards options_.http while it is made
};

}  // namespace contd::images
