#include "modules/images/ingest_session.h"

#include <google/protobuf/empty.pb.h>

#include <utility>

#include "modules/common/logging.h"
#include "modules/common/time_format.h"

namespace contd::images::detail {

namespace {
constexpr char kGcExpire[] = "containerd.io/gc.expire";
constexpr char kGcRefConfig[] = "containerd.io/gc.ref.content.config";
constexpr char kGcRefLayerPrefix[] = "containerd.io/gc.ref.content.l.";
constexpr char kGcRefSnapshot[] = "containerd.io/gc.ref.snapshot.overlayfs";
constexpr std::size_t kChunk = 1 << 20;
constexpr int kLeaseSeconds = 3600;
}  // namespace

// ---------------------------------------------------------------------------------------
// BlobWriter

BlobWriter::BlobWriter(Connection& connection, std::atomic<std::uint64_t>& committed,
                       std::string_view ns, std::string lease, const PlannedBlob& blob,
                       std::chrono::milliseconds timeout)
    : connection_(connection),
      committed_(committed),
      ns_(ns),
      lease_(std::move(lease)),
      what_("write blob " + blob.digest),
      timeout_(timeout) {
  blob_.media_type = blob.media_type;
  blob_.digest = blob.digest;
  blob_.size = blob.size;
  opened_ = rpc::prepare(&ctx_, call(), timeout_);
  if (!opened_) {
    finished_ = true;  // no stream to cancel
    return;
  }
  start_ = std::chrono::steady_clock::now();
  stream_ = connection_.content->Write(&ctx_);
  ref_ = lease_ + "-" + blob.digest.substr(7);
  buffer_.reserve(std::min<std::uint64_t>(blob.size, kChunk));
}

BlobWriter::~BlobWriter() {
  if (!finished_) {
    ctx_.TryCancel();
    stream_->Finish().ok();
  }
}

rpc::Call BlobWriter::call() const { return imageCall("content.Write", what_, ns_, "", lease_); }

Status BlobWriter::write(std::string_view data) {
  while (!data.empty()) {
    const std::size_t take = std::min(data.size(), kChunk - buffer_.size());
    buffer_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (buffer_.size() == kChunk) {
      CONTD_RETURN_IF_ERROR(flush());
    }
  }
  return okStatus();
}

Status BlobWriter::flush() {
  CONTD_RETURN_IF_ERROR(opened_);
  if (buffer_.empty()) {
    return okStatus();
  }
  if (broken_) {
    return internalError(what_ + " in '" + std::string(ns_) + "': the stream to containerd broke");
  }
  content_v1::WriteContentRequest request;
  request.set_action(content_v1::WRITE);
  request.set_ref(ref_);
  request.set_total(static_cast<std::int64_t>(blob_.size));
  request.set_expected(blob_.digest);
  request.set_offset(offset_);
  offset_ += static_cast<std::int64_t>(buffer_.size());
  request.set_data(std::move(buffer_));
  content_v1::WriteContentResponse response;
  if (!stream_->Write(request) || !stream_->Read(&response)) {
    broken_ = true;  // commit() reports containerd's reason
  }
  // The same 1 MiB buffer serves every chunk: no reallocation per chunk.
  buffer_.swap(*request.mutable_data());
  buffer_.clear();
  return okStatus();
}

Status BlobWriter::commit() {
  CONTD_RETURN_IF_ERROR(opened_);
  CONTD_RETURN_IF_ERROR(flush());
  content_v1::WriteContentResponse response;
  if (!broken_) {
    content_v1::WriteContentRequest commit;
    commit.set_action(content_v1::COMMIT);
    commit.set_ref(ref_);
    commit.set_total(static_cast<std::int64_t>(blob_.size));
    commit.set_expected(blob_.digest);
    commit.set_offset(offset_);
    if (!stream_->Write(commit) || !stream_->Read(&response)) {
      broken_ = true;
    }
  }
  stream_->WritesDone();
  // containerd answers a COMMIT twice (its deferred send pumps the last message again),
  // and Finish waits until every message has been read.
  while (stream_->Read(&response)) {
  }
  finished_ = true;
  const grpc::Status status = stream_->Finish();
  Status result = rpc::finish(call(), status, ctx_.deadline(), timeout_, start_);
  if (!result && result.error().code == Code::kAlreadyExists) {
    return okStatus();  // committed meanwhile by another ingest
  }
  if (result && broken_) {
    return internalError(what_ + " in '" + std::string(ns_) +
                         "': the stream to containerd ended early");
  }
  if (result) {
    ++committed_;
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// IngestSession

IngestSession::IngestSession(Connection& connection, std::atomic<std::uint64_t>& blobs_written,
                             std::string_view ns, Timeouts timeouts, std::string what)
    : connection_(connection),
      blobs_written_(blobs_written),
      ns_(ns),
      timeouts_(timeouts),
      what_(std::move(what)) {}

IngestSession::~IngestSession() { endLease(LeaseEnd::kDeleteAndCollect); }

rpc::Call IngestSession::call(std::string_view op, std::string_view what,
                              std::string_view id) const {
  return imageCall(op, what, ns_, id, lease_);
}

Status IngestSession::createLease(std::string_view kind) {
  leases_v1::CreateRequest request;
  request.set_id("contd-" + std::string(kind) + "-" + randomHex(16));
  (*request.mutable_labels())[kGcExpire] = formatRfc3339(std::time(nullptr) + kLeaseSeconds);
  leases_v1::CreateResponse response;
  CONTD_RETURN_IF_ERROR(rpc::invoke(call("leases.Create", "create lease"), timeouts_.call,
                                    [&](grpc::ClientContext* ctx) {
                                      return connection_.leases->Create(ctx, request, &response);
                                    }));
  lease_ = request.id();
  return okStatus();
}

void IngestSession::endLease(LeaseEnd how) {
  if (lease_.empty()) {
    return;
  }
  if (how == LeaseEnd::kKeep) {
    log::containerd()->info("{} keeps lease={} ns={} until it expires (1 h) for a retry", what_,
                            lease_, ns_);
    lease_.clear();
    return;
  }
  leases_v1::DeleteRequest request;
  request.set_id(lease_);
  request.set_sync(how == LeaseEnd::kDeleteAndCollect);
  google::protobuf::Empty response;
  // The lease is the call's object (its id), and the call is not made under it.
  const Status status = rpc::invoke(imageCall("leases.Delete", "delete lease", ns_, lease_),
                                    timeouts_.call, [&](grpc::ClientContext* ctx) {
                                      return connection_.leases->Delete(ctx, request, &response);
                                    });
  if (!status) {
    log::containerd()->warn("{} left lease={} ns={} (expires in 1 h): {}", what_, lease_, ns_,
                            status.error().message);
  }
  lease_.clear();
}

Result<bool> IngestSession::haveBlob(const std::string& digest) {
  content_v1::InfoRequest request;
  request.set_digest(digest);
  content_v1::InfoResponse response;
  const std::string what = "stat blob " + digest;
  const Status status = rpc::invoke(
      call("content.Info", what), timeouts_.call,
      [&](grpc::ClientContext* ctx) { return connection_.content->Info(ctx, request, &response); });
  if (isNotFound(status)) {
    return false;
  }
  CONTD_RETURN_IF_ERROR(status);
  CONTD_RETURN_IF_ERROR(addToLease(digest, "content"));
  return true;
}

Result<std::string> IngestSession::readSmallBlob(const std::string& digest) {
  return detail::readSmallBlob(connection_, ns_, lease_, digest, timeouts_.call);
}

std::unique_ptr<BlobWriter> IngestSession::openWriter(const PlannedBlob& blob) {
  return std::make_unique<BlobWriter>(connection_, blobs_written_, ns_, lease_, blob,
                                      timeouts_.transfer);
}

Status IngestSession::writeFromMemory(const PlannedBlob& blob) {
  BlobWriter writer(connection_, blobs_written_, ns_, lease_, blob, timeouts_.transfer);
  CONTD_RETURN_IF_ERROR(writer.write(blob.data));
  return writer.commit();
}

Status IngestSession::addToLease(const std::string& id, const std::string& type) {
  leases_v1::AddResourceRequest request;
  request.set_id(lease_);
  request.mutable_resource()->set_id(id);
  request.mutable_resource()->set_type(type);
  google::protobuf::Empty response;
  const std::string what = "add " + id + " to lease";
  return rpc::invoke(call("leases.AddResource", what), timeouts_.call,
                     [&](grpc::ClientContext* ctx) {
                       return connection_.leases->AddResource(ctx, request, &response);
                     });
}

Status IngestSession::setLabels(const std::string& digest,
                                const std::map<std::string, std::string>& labels) {
  content_v1::UpdateRequest request;
  request.mutable_info()->set_digest(digest);
  for (const auto& [key, value] : labels) {
    (*request.mutable_info()->mutable_labels())[key] = value;
    request.mutable_update_mask()->add_paths("labels." + key);
  }
  content_v1::UpdateResponse response;
  const std::string what = "label blob " + digest;
  return rpc::invoke(call("content.Update", what), timeouts_.call, [&](grpc::ClientContext* ctx) {
    return connection_.content->Update(ctx, request, &response);
  });
}

Status IngestSession::unpackOne(const PlannedBlob& layer, const std::string& diff_id,
                                const std::string& chain_id, const std::string& parent) {
  snapshots_v1::StatSnapshotRequest stat;
  stat.set_snapshotter(kSnapshotter);
  stat.set_key(chain_id);
  snapshots_v1::StatSnapshotResponse stat_response;
  const std::string stat_what = "stat snapshot " + chain_id;
  const Status exists =
      rpc::invoke(call("snapshots.Stat", stat_what), timeouts_.call, [&](grpc::ClientContext* ctx) {
        return connection_.snapshots->Stat(ctx, stat, &stat_response);
      });
  if (exists) {
    return addToLease(chain_id, std::string("snapshots/") + kSnapshotter);
  }
  if (!isNotFound(exists)) {
    return exists.error();
  }
  const std::string key = "extract-" + randomHex(12) + "-" + chain_id.substr(7, 12);
  auto mounts = prepareSnapshot(connection_, ns_, lease_, key, parent, timeouts_.call);
  if (!mounts) {
    return mounts.error();
  }
  Status status = apply(layer, diff_id, *mounts);
  if (status) {
    snapshots_v1::CommitSnapshotRequest commit;
    commit.set_snapshotter(kSnapshotter);
    commit.set_name(chain_id);
    commit.set_key(key);
    google::protobuf::Empty empty;
    const std::string commit_what = "commit snapshot " + chain_id;
    status = rpc::invoke(call("snapshots.Commit", commit_what), timeouts_.call,
                         [&](grpc::ClientContext* ctx) {
                           return connection_.snapshots->Commit(ctx, commit, &empty);
                         });
    if (status) {
      return okStatus();
    }
    if (status.error().code == Code::kAlreadyExists) {
      status = okStatus();  // unpacked concurrently by another ingest
    }
  }
  const Status removed = removeSnapshot(connection_, ns_, lease_, key, timeouts_.call);
  if (!removed) {
    log::containerd()->warn("{} could not remove snapshot key={} ns={}: {}", what_, key, ns_,
                            removed.error().message);
  }
  return status;
}

Status IngestSession::apply(const PlannedBlob& layer, const std::string& diff_id,
                            const std::vector<SnapshotMount>& mounts) {
  diff_v1::ApplyRequest request;
  request.mutable_diff()->set_media_type(layer.media_type);
  request.mutable_diff()->set_digest(layer.digest);
  request.mutable_diff()->set_size(static_cast<std::int64_t>(layer.size));
  for (const auto& mount : mounts) {
    auto* m = request.add_mounts();
    m->set_type(mount.type);
    m->set_source(mount.source);
    for (const auto& option : mount.options) {
      m->add_options(option);
    }
  }
  diff_v1::ApplyResponse response;
  const std::string what = "apply layer " + layer.digest;
  CONTD_RETURN_IF_ERROR(rpc::invoke(
      call("diff.Apply", what), timeouts_.transfer,
      [&](grpc::ClientContext* ctx) { return connection_.diff->Apply(ctx, request, &response); }));
  if (response.applied().digest() != diff_id) {
    return invalidArgument(what_ + ": layer " + layer.digest + " unpacks to " +
                           response.applied().digest() + ", the config's diff_id is " + diff_id);
  }
  return okStatus();
}

Status IngestSession::createOrUpdateImage(const std::string& name, const PlannedBlob& manifest) {
  images_v1::Image image;
  image.set_name(name);
  image.mutable_target()->set_media_type(manifest.media_type);
  image.mutable_target()->set_digest(manifest.digest);
  image.mutable_target()->set_size(static_cast<std::int64_t>(manifest.size));
  images_v1::CreateImageRequest create;
  *create.mutable_image() = image;
  images_v1::CreateImageResponse created;
  const Status status = rpc::invoke(
      call("images.Create", "create image", name), timeouts_.call,
      [&](grpc::ClientContext* ctx) { return connection_.images->Create(ctx, create, &created); });
  if (status || status.error().code != Code::kAlreadyExists) {
    return status;
  }
  images_v1::UpdateImageRequest update;
  *update.mutable_image() = image;
  update.mutable_update_mask()->add_paths("target");
  images_v1::UpdateImageResponse updated;
  return rpc::invoke(
      call("images.Update", "update image", name), timeouts_.call,
      [&](grpc::ClientContext* ctx) { return connection_.images->Update(ctx, update, &updated); });
}

Status IngestSession::labelManifest(const ImportPlan& plan) {
  std::map<std::string, std::string> refs{{kGcRefConfig, plan.config.digest}};
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    refs[kGcRefLayerPrefix + std::to_string(i)] = plan.layers[i].digest;
  }
  return setLabels(plan.manifest.digest, refs);
}

Status IngestSession::unpackLayer(const ImportPlan& plan, std::size_t i) {
  const auto chain = chainIds(plan.diff_ids);
  return unpackOne(plan.layers[i], plan.diff_ids[i], chain[i], i == 0 ? "" : chain[i - 1]);
}

Status IngestSession::registerImage(const ImportPlan& plan, const std::string& name) {
  if (!plan.diff_ids.empty()) {
    CONTD_RETURN_IF_ERROR(
        setLabels(plan.config.digest, {{kGcRefSnapshot, chainIds(plan.diff_ids).back()}}));
  }
  return createOrUpdateImage(name, plan.manifest);
}

Status IngestSession::finish(const ImportPlan& plan, const std::string& name) {
  CONTD_RETURN_IF_ERROR(labelManifest(plan));
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    CONTD_RETURN_IF_ERROR(unpackLayer(plan, i));
  }
  return registerImage(plan, name);
}

}  // namespace contd::images::detail
