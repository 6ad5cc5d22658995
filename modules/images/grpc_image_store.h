#pragma once
// ImageStore over containerd's gRPC API (content, images, snapshots, diff, leases and
// containers services), on a channel of its own to containerd's socket.
//
// Import, step by step (grpc_image_store.cc):
//   1. read the archive once: hash every file, check blob names, pick the manifest
//      (import_plan.h). A bad archive fails here, before containerd is touched.
//   2. Leases.Create (expires after an hour should contd die mid-import); every later call
//      carries it as `containerd-lease` metadata, so nothing is collected meanwhile.
//   3. Content.Info per blob: present ones are added to the lease, missing ones are written
//      with Content.Write (WRITE chunks, then COMMIT with the expected digest and size;
//      containerd checks both). The archive is read a second time for them.
//   4. GC labels: the manifest references config and layers
//      (containerd.io/gc.ref.content.*), the config the top snapshot
//      (containerd.io/gc.ref.snapshot.overlayfs).
//   5. Unpack: per layer, skip the committed snapshot named by its chain ID when it exists,
//      else Snapshots.Prepare("extract-…", parent) -> Diff.Apply -> Snapshots.Commit.
//   6. Images.Create (Update when the name exists), then Leases.Delete, always.
// The image record is written last, so a failure leaves no image; the lease is deleted in
// every case and containerd's GC frees what no image references.
//
// Thread-safety: as ImageStore.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "modules/images/image_store.h"

namespace contd::images {

class GrpcImageStore final : public ImageStore {
public:
  struct Options {
    std::chrono::milliseconds call_timeout{30'000};
    // Content.Write of one blob and Diff.Apply of one layer.
    std::chrono::milliseconds transfer_timeout{600'000};
  };

  // Opens a channel to containerd's socket (no call is made). kInvalidArgument for an
  // empty path.
  static Result<std::unique_ptr<GrpcImageStore>> connect(const std::string& socket_path);
  static Result<std::unique_ptr<GrpcImageStore>> connect(const std::string& socket_path,
                                                         Options options);
  ~GrpcImageStore() override;

  Result<ImageInfo> importImage(std::string_view ns, const std::string& archive_path,
                                std::string_view name) override;
  Result<ImageInfo> getImage(std::string_view ns, std::string_view name) override;
  Result<std::vector<ImageInfo>> listImages(std::string_view ns) override;
  Status removeImage(std::string_view ns, std::string_view name) override;
  Result<std::vector<SnapshotMount>> prepareSnapshot(std::string_view ns, std::string_view key,
                                                     std::string_view parent) override;
  Result<std::vector<SnapshotMount>> snapshotMounts(std::string_view ns,
                                                    std::string_view key) override;
  Status removeSnapshot(std::string_view ns, std::string_view key) override;
  Result<bool> hasSnapshot(std::string_view ns, std::string_view key) override;

  // The ids of containerd's leases in `ns` (imports delete theirs when they end).
  Result<std::vector<std::string>> listLeases(std::string_view ns);
  // How many Content.Write streams this store has committed (for tests of caching).
  std::uint64_t blobsWritten() const;

  struct Scope;  // namespace and lease of a call; defined in grpc_image_store.cc

private:
  struct Stubs;
  class Import;
  GrpcImageStore(Options options, std::unique_ptr<Stubs> stubs);

  Result<std::vector<SnapshotMount>> prepareIn(const Scope& scope, std::string_view key,
                                               std::string_view parent);
  Status removeIn(const Scope& scope, std::string_view key);
  // A small blob (manifest, config) whole; at most 4 MiB are read.
  Result<std::string> readBlob(std::string_view ns, const std::string& digest);
  Result<ImageInfo> describe(std::string_view ns, const std::string& name,
                             const std::string& media_type, const std::string& manifest_digest,
                             std::uint64_t manifest_size);

  Options options_;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace contd::images
