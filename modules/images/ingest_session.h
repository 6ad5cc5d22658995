#pragma once
// One ingest into a namespace, an import or a pull: the lease that keeps containerd's GC
// away meanwhile, the blobs it checks or writes, the GC labels that tie an image's blobs
// and snapshots together, the unpack into snapshots, and the image record (written last,
// so a failure leaves no image).
//
//   createLease()                 contd-<kind>-<random>, gc.expire in one hour
//   haveBlob(digest)              Content.Info; a present blob joins the lease
//   openWriter(blob) / writeFromMemory(blob)
//                                 Content.Write: WRITE chunks, then COMMIT with the
//                                 expected digest and size (containerd checks both)
//   finish(plan, name)            GC labels, unpack (skips layers whose chain-ID snapshot
//                                 exists), Images.Create or Update
//   endLease(how)                 deleted (after a failure with a synchronous GC), or kept
//                                 to expire so that a retry finds what was fetched
//
// Internal to contd_images_grpc. Thread-safety: haveBlob and openWriter may be called
// from several threads; the rest from one.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "modules/common/result.h"
#include "modules/images/import_plan.h"
#include "modules/images/shared_calls.h"

namespace contd::images::detail {

struct Timeouts {
  std::chrono::milliseconds call{30'000};
  std::chrono::milliseconds transfer{600'000};  // one blob's Content.Write, one Diff.Apply
};

// A Content.Write stream for one blob, fed as bytes come, in `ns` under `lease`. A commit
// counts in `committed`.
class BlobWriter {
public:
  BlobWriter(Connection& connection, std::atomic<std::uint64_t>& committed, std::string_view ns,
             std::string lease, const PlannedBlob& blob, std::chrono::milliseconds timeout);
  ~BlobWriter();  // cancels the stream unless commit() was called
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Buffers up to 1 MiB, then sends one WRITE and waits for containerd's answer.
  Status write(std::string_view data);
  // Sends the rest and COMMIT. kAlreadyExists from containerd (committed meanwhile by
  // someone else) is ok; a digest or size mismatch is kFailedPrecondition.
  Status commit();

private:
  Status flush();
  rpc::Call call() const;

  Connection& connection_;
  std::atomic<std::uint64_t>& committed_;
  std::string_view ns_;
  std::string lease_;
  std::string what_;  // "write blob <digest>"
  std::chrono::milliseconds timeout_;
  Status opened_ = okStatus();  // prepare()'s verdict: without it there is no stream
  PlannedBlob blob_;  // without data
  grpc::ClientContext ctx_;
  std::chrono::steady_clock::time_point start_;
  std::unique_ptr<grpc::ClientReaderWriter<content_v1::WriteContentRequest,
                                           content_v1::WriteContentResponse>>
      stream_;
  std::string ref_;
  std::string buffer_;
  std::int64_t offset_ = 0;
  bool broken_ = false;
  bool finished_ = false;
};

class IngestSession {
public:
  // `what` names the ingest in messages: "import '/tmp/a.tar'", "pull 'busybox'". Every
  // blob it commits counts in `blobs_written`.
  IngestSession(Connection& connection, std::atomic<std::uint64_t>& blobs_written,
                std::string_view ns, Timeouts timeouts, std::string what);
  ~IngestSession();  // endLease(kDeleteAndCollect) when still held
  IngestSession(const IngestSession&) = delete;
  IngestSession& operator=(const IngestSession&) = delete;

  enum class LeaseEnd {
    kDelete,             // success: the image references what it needs
    kDeleteAndCollect,   // failure: containerd collects what nothing references, now
    kKeep,               // transient failure: what was fetched waits (1 h) for a retry
  };
  Status createLease(std::string_view kind);
  void endLease(LeaseEnd how);

  Result<bool> haveBlob(const std::string& digest);
  // A small blob (config) from the content store.
  Result<std::string> readSmallBlob(const std::string& digest);
  std::unique_ptr<BlobWriter> openWriter(const PlannedBlob& blob);
  Status writeFromMemory(const PlannedBlob& blob);

  // The three steps after the blobs are in, in this order (finish() runs them all):
  // the manifest's GC labels (config and layers), the unpack of layer i (its parents
  // first; a layer whose chain-ID snapshot exists is skipped), then the config's snapshot
  // label and the image record.
  Status labelManifest(const ImportPlan& plan);
  Status unpackLayer(const ImportPlan& plan, std::size_t i);
  Status registerImage(const ImportPlan& plan, const std::string& name);
  Status finish(const ImportPlan& plan, const std::string& name);

  const std::string& what() const { return what_; }

private:
  Status addToLease(const std::string& id, const std::string& type);
  Status setLabels(const std::string& digest, const std::map<std::string, std::string>& labels);
  Status unpackOne(const PlannedBlob& layer, const std::string& diff_id,
                   const std::string& chain_id, const std::string& parent);
  Status apply(const PlannedBlob& layer, const std::string& diff_id,
               const std::vector<SnapshotMount>& mounts);
  Status createOrUpdateImage(const std::string& name, const PlannedBlob& manifest);
  // A call of this ingest: in its namespace, under its lease once there is one.
  rpc::Call call(std::string_view op, std::string_view what, std::string_view id = {}) const;

  Connection& connection_;
  std::atomic<std::uint64_t>& blobs_written_;
  std::string_view ns_;
  std::string lease_;  // empty until createLease() and after endLease()
  Timeouts timeouts_;
  std::string what_;
};

}  // namespace contd::images::detail
