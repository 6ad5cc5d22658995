#pragma once
// Images in containerd, in contd's words: import an image archive, unpack it into
// snapshots, list and remove images, and give a container a writable snapshot on top of an
// image. GrpcImageStore (grpc_image_store.h) implements it over containerd's content,
// images, snapshots, diff and leases services. No protobuf or gRPC here.
//
// Thread-safety: every method may be called from any thread concurrently.
// Errors: containerd's gRPC status mapped to contd::Code, behind what was being done.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/record_schema.h"
#include "modules/common/result.h"

namespace contd::images {

// The snapshotter contd unpacks into and makes container snapshots with.
inline constexpr char kSnapshotter[] = "overlayfs";

// What contd takes from an image's config (OCI image-spec "config" object).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string working_dir;
  std::string user;
  // The config's top-level "created" (RFC 3339 UTC) as unix nanoseconds; 0 when it has
  // none (or one contd cannot read).
  std::int64_t created_ns = 0;
};

struct ImageInfo {
  std::string name;
  std::string manifest_digest;  // "sha256:…"
  std::string media_type;       // of the manifest
  std::string config_digest;
  std::vector<std::string> diff_ids;
  std::string chain_id;  // of the top layer: the parent of container snapshots
  std::uint64_t size = 0;  // manifest + config + layers, as stored (compressed)
  ImageConfig config;
  // When the image was made: the config's "created", else when containerd registered it
  // (its image record's created_at); unix nanoseconds, 0 when neither is known.
  std::int64_t created_ns = 0;
};

// A mount as containerd gives it (snapshots) and takes it (task rootfs).
struct SnapshotMount {
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

// What to pull, and how to reach the registry.
struct PullRequest {
  std::string ref;           // "busybox", "127.0.0.1:5000/test/two:1", "host/app@sha256:…"
  std::string username;      // empty: anonymous (a challenge may still be answered)
  std::string password;      // never logged
  bool plain_http = false;   // http:// instead of https:// (registries on loopback, tests)
};

// One step of a pull, per blob: kResolved for the manifest, then per layer kCached
// (already in the content store: not fetched) or kWaiting, kFetching (repeated as bytes
// arrive, every 512 KiB) and kFetched; then kUnpacked per layer once its snapshot is in
// place. pullImage's return ends the pull.
struct PullProgress {
  enum class State { kResolved, kWaiting, kCached, kFetching, kFetched, kUnpacked };
  State state = State::kWaiting;
  std::string digest;      // the blob; for kResolved the manifest digest; empty for kDone
  std::string media_type;
  std::uint64_t offset = 0;  // bytes of the blob received so far
  std::uint64_t total = 0;   // the blob's size
};
// Called one call at a time (from the pull's worker threads). Returning false cancels the
// pull (kUnknown "cancelled"), as when the caller went away.
using PullProgressFn = std::function<bool(const PullProgress&)>;

class ImageStore {
public:
  virtual ~ImageStore() = default;

  // Imports an OCI image-layout tarball or a `docker save` tarball into `ns`, registers it
  // as `name` (empty: the archive's own name: OCI annotation
  // org.opencontainers.image.ref.name or docker's first RepoTag) and unpacks it. Blobs that
  // are already in the content store are not written again. Errors: kInvalidArgument for a
  // bad archive (truncated, digest mismatch, missing blob, no linux/amd64 manifest), naming
  // the problem; containerd's errors otherwise. Nothing stays pinned after a failure.
  virtual Result<ImageInfo> importImage(std::string_view ns, const std::string& archive_path,
                                        std::string_view name) = 0;
  // Pulls `request.ref` from its registry into `ns` (docs/images.md): resolves the tag to
  // the manifest for linux/<arch>, fetches config and layers the content store lacks (in
  // parallel, bounded, streamed into containerd), unpacks and registers the image under
  // the normalised name ("docker.io/library/busybox:latest"). Errors: kInvalidArgument for
  // a bad ref (naming `ref`) or a manifest without our platform; kNotFound for an unknown
  // repository/tag; kUnauthenticated when the registry wants (other) credentials;
  // kUnavailable when it cannot be reached; kFailedPrecondition for content that does not
  // match its digest. After a failure no image exists; blobs fetched whole stay under the
  // pull's lease until it expires when the failure was kUnavailable/kDeadlineExceeded (so
  // a retry fetches only what is missing), else the lease is deleted at once.
  virtual Result<ImageInfo> pullImage(std::string_view ns, const PullRequest& request,
                                      const PullProgressFn& progress) = 0;
  // Errors: kNotFound for an unknown image.
  virtual Result<ImageInfo> getImage(std::string_view ns, std::string_view name) = 0;
  virtual Result<std::vector<ImageInfo>> listImages(std::string_view ns) = 0;
  // kFailedPrecondition while a container of `ns` carries kImageLabel=name; kNotFound for
  // an unknown image. containerd's garbage collector then frees content and snapshots.
  virtual Status removeImage(std::string_view ns, std::string_view name) = 0;

  // An active snapshot `key` on top of the image's layers, and the mounts of it.
  // Errors: kAlreadyExists when `key` exists.
  virtual Result<std::vector<SnapshotMount>> prepareSnapshot(std::string_view ns,
                                                             std::string_view key,
                                                             std::string_view parent) = 0;
  // The mounts of an existing active snapshot. Errors: kNotFound when there is none.
  virtual Result<std::vector<SnapshotMount>> snapshotMounts(std::string_view ns,
                                                            std::string_view key) = 0;
  // Ok when it does not exist.
  virtual Status removeSnapshot(std::string_view ns, std::string_view key) = 0;
  // Whether a snapshot `key` exists.
  virtual Result<bool> hasSnapshot(std::string_view ns, std::string_view key) = 0;

  // The content of the file at the absolute `path` ("/etc/passwd") in the image whose top
  // layer is the committed snapshot `chain_id`, as a new container of it sees it; nullopt
  // when there is no such file. Symlinks resolve inside the image. Reads the layers of a
  // temporary view snapshot (removed again, whatever happens) without mounting anything
  // (layer_files.h). Errors: kInvalidArgument for a file larger than `max_bytes` or not a
  // regular file; kNotFound for an unknown chain_id; containerd's otherwise.
  virtual Result<std::optional<std::string>> readImageFile(std::string_view ns,
                                                           std::string_view chain_id,
                                                           const std::string& path,
                                                           std::size_t max_bytes) = 0;
};

// chainID(1) = diffID(1); chainID(n) = sha256(chainID(n-1) + " " + diffID(n)).
std::vector<std::string> chainIds(const std::vector<std::string>& diff_ids);

}  // namespace contd::images
