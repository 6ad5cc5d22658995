#include "modules/images/ingest_session.h"

#include <google/protobuf/empty.pb.h>

#include <utility>

#include "modules/common/logging.h"

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

BlobWriter::BlobWriter(Stubs& stubs, const Scope& scope, const PlannedBlob& blob,
                       Timeouts timeouts)
    : stubs_(stubs), scope_(scope) {
  blob_.media_type = blob.media_type;
  blob_.digest = blob.digest;
  blob_.size = blob.size;
  opened_ = prepare(&ctx_, scope_, timeouts.transfer);
  if (!opened_) {
    finished_ = true;  // no stream to cancel
    return;
  }
  stream_ = stubs_.content->Write(&ctx_);
  ref_ = scope_.lease + "-" + blob.digest.substr(7);
  buffer_.reserve(std::min<std::uint64_t>(blob.size, kChunk));
}

BlobWriter::~BlobWriter() {
  if (!finished_) {
    ctx_.TryCancel();
    stream_->Finish().ok();
  }
}

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
    return internalError("write blob " + blob_.digest + " in '" + std::string(scope_.ns) +
                         "': the stream to containerd broke");
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
  Status result = toStatus(status, "content.Write", "write blob " + blob_.digest, scope_);
  if (!result && result.error().code == Code::kAlreadyExists) {
    return okStatus();  // committed meanwhile by another ingest
  }
  if (result && broken_) {
    return internalError("write blob " + blob_.digest + " in '" + std::string(scope_.ns) +
                         "': the stream to containerd ended early");
  }
  if (result) {
    ++stubs_.blobs_written;
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// IngestSession

IngestSession::IngestSession(Stubs& stubs, std::string_view ns, Timeouts timeouts,
                             std::string what)
    : stubs_(stubs), scope_{ns, ""}, timeouts_(timeouts), what_(std::move(what)) {}

IngestSession::~IngestSession() { endLease(LeaseEnd::kDeleteAndCollect); }

Status IngestSession::createLease(std::string_view kind) {
  leases_v1::CreateRequest request;
  request.set_id("contd-" + std::string(kind) + "-" + randomHex(16));
  (*request.mutable_labels())[kGcExpire] = rfc3339(std::time(nullptr) + kLeaseSeconds);
  leases_v1::CreateResponse response;
  CONTD_RETURN_IF_ERROR(invoke("leases.Create", "create lease", scope_, timeouts_.call,
                               [&](grpc::ClientContext* ctx) {
                                 return stubs_.leases->Create(ctx, request, &response);
                               }));
  scope_.lease = request.id();
  return okStatus();
}

void IngestSession::endLease(LeaseEnd how) {
  if (scope_.lease.empty()) {
    return;
  }
  if (how == LeaseEnd::kKeep) {
    log::containerd()->info("{} keeps lease={} ns={} until it expires (1 h) for a retry", what_,
                            scope_.lease, scope_.ns);
    scope_.lease.clear();
    return;
  }
  leases_v1::DeleteRequest request;
  request.set_id(scope_.lease);
  request.set_sync(how == LeaseEnd::kDeleteAndCollect);
  const Scope plain{scope_.ns, ""};
  google::protobuf::Empty response;
  const Status status = invoke("leases.Delete", "delete lease '" + scope_.lease + "'", plain,
                               timeouts_.call, [&](grpc::ClientContext* ctx) {
                                 return stubs_.leases->Delete(ctx, request, &response);
                               });
  if (!status) {
    log::containerd()->warn("{} left lease={} ns={} (expires in 1 h): {}", what_, scope_.lease,
                            scope_.ns, status.error().message);
  }
  scope_.lease.clear();
}

Result<bool> IngestSession::haveBlob(const std::string& digest) {
  content_v1::InfoRequest request;
  request.set_digest(digest);
  content_v1::InfoResponse response;
  const Status status = invoke("content.Info", "stat blob " + digest, scope_, timeouts_.call,
                               [&](grpc::ClientContext* ctx) {
                                 return stubs_.content->Info(ctx, request, &response);
                               });
  if (isNotFound(status)) {
    return false;
  }
  CONTD_RETURN_IF_ERROR(status);
  CONTD_RETURN_IF_ERROR(addToLease(digest, "content"));
  return true;
}

Result<std::string> IngestSession::readSmallBlob(const std::string& digest) {
  return detail::readSmallBlob(stubs_, scope_, digest, timeouts_.call);
}

std::unique_ptr<BlobWriter> IngestSession::openWriter(const PlannedBlob& blob) {
  return std::make_unique<BlobWriter>(stubs_, scope_, blob, timeouts_);
}

Status IngestSession::writeFromMemory(const PlannedBlob& blob) {
  BlobWriter writer(stubs_, scope_, blob, timeouts_);
  CONTD_RETURN_IF_ERROR(writer.write(blob.data));
  return writer.commit();
}

Status IngestSession::addToLease(const std::string& id, const std::string& type) {
  leases_v1::AddResourceRequest request;
  request.set_id(scope_.lease);
  request.mutable_resource()->set_id(id);
  request.mutable_resource()->set_type(type);
  google::protobuf::Empty response;
  return invoke("leases.AddResource", "add " + id + " to lease", scope_, timeouts_.call,
                [&](grpc::ClientContext* ctx) {
                  return stubs_.leases->AddResource(ctx, request, &response);
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
  return invoke("content.Update", "label blob " + digest, scope_, timeouts_.call,
                [&](grpc::ClientContext* ctx) {
                  return stubs_.content->Update(ctx, request, &response);
                });
}

Status IngestSession::unpackOne(const PlannedBlob& layer, const std::string& diff_id,
                                const std::string& chain_id, const std::string& parent) {
  snapshots_v1::StatSnapshotRequest stat;
  stat.set_snapshotter(kSnapshotter);
  stat.set_key(chain_id);
  snapshots_v1::StatSnapshotResponse stat_response;
  const Status exists = invoke("snapshots.Stat", "stat snapshot " + chain_id, scope_,
                               timeouts_.call, [&](grpc::ClientContext* ctx) {
                                 return stubs_.snapshots->Stat(ctx, stat, &stat_response);
                               });
  if (exists) {
    return addToLease(chain_id, std::string("snapshots/") + kSnapshotter);
  }
  if (!isNotFound(exists)) {
    return exists.error();
  }
  const std::string key = "extract-" + randomHex(12) + "-" + chain_id.substr(7, 12);
  auto mounts = prepareSnapshot(stubs_, scope_, key, parent, timeouts_.call);
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
    status = invoke("snapshots.Commit", "commit snapshot " + chain_id, scope_, timeouts_.call,
                    [&](grpc::ClientContext* ctx) {
                      return stubs_.snapshots->Commit(ctx, commit, &empty);
                    });
    if (status) {
      return okStatus();
    }
    if (status.error().code == Code::kAlreadyExists) {
      status = okStatus();  // unpacked concurrently by another ingest
    }
  }
  const Status removed = removeSnapshot(stubs_, scope_, key, timeouts_.call);
  if (!removed) {
    log::containerd()->warn("{} could not remove snapshot key={} ns={}: {}", what_, key,
                            scope_.ns, removed.error().message);
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
  CONTD_RETURN_IF_ERROR(invoke("diff.Apply", "apply layer " + layer.digest, scope_,
                               timeouts_.transfer, [&](grpc::ClientContext* ctx) {
                                 return stubs_.diff->Apply(ctx, request, &response);
                               }));
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
  const Status status = invoke("images.Create", "create image '" + name + "'", scope_,
                               timeouts_.call, [&](grpc::ClientContext* ctx) {
                                 return stubs_.images->Create(ctx, create, &created);
                               });
  if (status || status.error().code != Code::kAlreadyExists) {
    return status;
  }
  images_v1::UpdateImageRequest update;
  *update.mutable_image() = image;
  update.mutable_update_mask()->add_paths("target");
  images_v1::UpdateImageResponse updated;
  return invoke("images.Update", "update image '" + name + "'", scope_, timeouts_.call,
                [&](grpc::ClientContext* ctx) {
                  return stubs_.images->Update(ctx, update, &updated);
                });
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
