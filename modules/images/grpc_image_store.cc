#include "modules/images/grpc_image_store.h"

#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/content/v1/content.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/diff/v1/diff.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "modules/images/digest.h"
#include "modules/images/import_plan.h"
#include "modules/images/tar_reader.h"

namespace contd::images {

namespace containers_v1 = ::containerd::services::containers::v1;
namespace content_v1 = ::containerd::services::content::v1;
namespace diff_v1 = ::containerd::services::diff::v1;
namespace images_v1 = ::containerd::services::images::v1;
namespace leases_v1 = ::containerd::services::leases::v1;
namespace snapshots_v1 = ::containerd::services::snapshots::v1;

struct GrpcImageStore::Stubs {
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
  std::atomic<std::uint64_t> blobs_written{0};
};

// Where one RPC happens: the namespace always, the lease during an import.
struct GrpcImageStore::Scope {
  std::string_view ns;
  std::string lease;
};

namespace {

using Scope = GrpcImageStore::Scope;

constexpr char kLeaseMetadata[] = "containerd-lease";
constexpr char kNamespaceMetadata[] = "containerd-namespace";
constexpr char kGcExpire[] = "containerd.io/gc.expire";
constexpr char kGcRefConfig[] = "containerd.io/gc.ref.content.config";
constexpr char kGcRefLayerPrefix[] = "containerd.io/gc.ref.content.l.";
constexpr char kGcRefSnapshot[] = "containerd.io/gc.ref.snapshot.overlayfs";
constexpr std::size_t kChunk = 1 << 20;

void prepare(grpc::ClientContext* ctx, const Scope& scope, std::chrono::milliseconds timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  ctx->AddMetadata(kNamespaceMetadata, std::string(scope.ns));
  if (!scope.lease.empty()) {
    ctx->AddMetadata(kLeaseMetadata, scope.lease);
  }
}

Status toStatus(const grpc::Status& status, std::string_view op, std::string_view what,
                const Scope& scope) {
  log::containerd()->debug("op={} ns={} code={}", op, scope.ns,
                           status.ok() ? 0 : static_cast<int>(status.error_code()));
  if (status.ok()) {
    return okStatus();
  }
  return makeError(containerd::grpcToCode(status.error_code()),
                   std::string(what) + " in '" + std::string(scope.ns) +
                       "': " + status.error_message());
}

template <typename Rpc>
Status invoke(std::string_view op, std::string_view what, const Scope& scope,
              std::chrono::milliseconds timeout, Rpc&& rpc) {
  grpc::ClientContext ctx;
  prepare(&ctx, scope, timeout);
  return toStatus(rpc(&ctx), op, what, scope);
}

std::string randomHex(std::size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < n; ++i) {
    text += kHex[rng() & 0xf];
  }
  return text;
}

std::string rfc3339(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

bool isNotFound(const Status& status) { return !status && status.error().code == Code::kNotFound; }

}  // namespace

// One import: the scope (namespace + lease) and the steps of grpc_image_store.h.
class GrpcImageStore::Import {
public:
  Import(GrpcImageStore& store, std::string_view ns, std::string archive)
      : store_(store), stubs_(*store.stubs_), scope_{ns, ""}, archive_(std::move(archive)) {}

  Status createLease() {
    leases_v1::CreateRequest request;
    request.set_id("contd-import-" + randomHex(16));
    (*request.mutable_labels())[kGcExpire] = rfc3339(std::time(nullptr) + 3600);
    leases_v1::CreateResponse response;
    CONTD_RETURN_IF_ERROR(invoke("leases.Create", "create lease", scope_,
                                 store_.options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                   return stubs_.leases->Create(ctx, request, &response);
                                 }));
    scope_.lease = request.id();
    return okStatus();
  }

  // Always called: what the lease held and no image references is then collected.
  void deleteLease() {
    if (scope_.lease.empty()) {
      return;
    }
    leases_v1::DeleteRequest request;
    request.set_id(scope_.lease);
    const Scope plain{scope_.ns, ""};
    google::protobuf::Empty response;
    const Status status = invoke("leases.Delete", "delete lease '" + scope_.lease + "'", plain,
                                 store_.options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                   return stubs_.leases->Delete(ctx, request, &response);
                                 });
    if (!status) {
      log::containerd()->warn("import left lease={} ns={} (expires in 1 h): {}", scope_.lease,
                              scope_.ns, status.error().message);
    }
    scope_.lease.clear();
  }

  // Content.Info; a present blob is added to the lease so that GC keeps it meanwhile.
  Result<bool> haveBlob(const std::string& digest, const char* resource_type = "content") {
    content_v1::InfoRequest request;
    request.set_digest(digest);
    content_v1::InfoResponse response;
    const Status status = invoke("content.Info", "stat blob " + digest, scope_,
                                 store_.options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                   return stubs_.content->Info(ctx, request, &response);
                                 });
    if (isNotFound(status)) {
      return false;
    }
    CONTD_RETURN_IF_ERROR(status);
    CONTD_RETURN_IF_ERROR(addToLease(digest, resource_type));
    return true;
  }

  Status addToLease(const std::string& id, const std::string& type) {
    leases_v1::AddResourceRequest request;
    request.set_id(scope_.lease);
    request.mutable_resource()->set_id(id);
    request.mutable_resource()->set_type(type);
    google::protobuf::Empty response;
    return invoke("leases.AddResource", "add " + id + " to lease", scope_,
                  store_.options_.call_timeout, [&](grpc::ClientContext* ctx) {
                    return stubs_.leases->AddResource(ctx, request, &response);
                  });
  }

  // One Content.Write stream: WRITE chunks as `next` yields them, then COMMIT with the
  // expected digest and size, each answered by containerd before the next is sent.
  template <typename Next>
  Status writeBlob(const PlannedBlob& blob, Next&& next) {
    grpc::ClientContext ctx;
    prepare(&ctx, scope_, store_.options_.transfer_timeout);
    auto stream = stubs_.content->Write(&ctx);
    const std::string ref = scope_.lease + "-" + blob.digest.substr(7);
    content_v1::WriteContentResponse response;
    std::int64_t offset = 0;
    std::string failure;
    for (;;) {
      auto chunk = next();
      if (!chunk) {
        ctx.TryCancel();
        stream->Finish().ok();
        return chunk.error();
      }
      if (chunk->empty()) {
        break;
      }
      content_v1::WriteContentRequest request;
      request.set_action(content_v1::WRITE);
      request.set_ref(ref);
      request.set_total(static_cast<std::int64_t>(blob.size));
      request.set_expected(blob.digest);
      request.set_offset(offset);
      request.set_data(std::move(*chunk));
      offset += static_cast<std::int64_t>(request.data().size());
      if (!stream->Write(request) || !stream->Read(&response)) {
        failure = "write";
        break;
      }
    }
    if (failure.empty()) {
      content_v1::WriteContentRequest commit;
      commit.set_action(content_v1::COMMIT);
      commit.set_ref(ref);
      commit.set_total(static_cast<std::int64_t>(blob.size));
      commit.set_expected(blob.digest);
      commit.set_offset(offset);
      if (!stream->Write(commit) || !stream->Read(&response)) {
        failure = "commit";
      }
    }
    stream->WritesDone();
    // containerd answers a COMMIT twice (its deferred send pumps the last message again),
    // and Finish waits until every message has been read.
    while (stream->Read(&response)) {
    }
    const grpc::Status status = stream->Finish();
    Status result = toStatus(status, "content.Write", "write blob " + blob.digest, scope_);
    if (!result && result.error().code == Code::kAlreadyExists) {
      return okStatus();  // another import committed it meanwhile
    }
    if (result && !failure.empty()) {
      return internalError("write blob " + blob.digest + " in '" + std::string(scope_.ns) +
                           "': stream ended during " + failure);
    }
    if (result) {
      ++stubs_.blobs_written;
    }
    return result;
  }

  Status writeFromMemory(const PlannedBlob& blob) {
    std::size_t pos = 0;
    return writeBlob(blob, [&]() -> Result<std::string> {
      std::string chunk = blob.data.substr(pos, kChunk);
      pos += chunk.size();
      return chunk;
    });
  }

  // The second pass over the archive: streams the blobs in `wanted` (by archive path).
  Status writeFromArchive(const std::map<std::string, const PlannedBlob*>& wanted) {
    if (wanted.empty()) {
      return okStatus();
    }
    auto reader = TarReader::open(archive_);
    if (!reader) {
      return reader.error();
    }
    std::set<std::string> done;
    std::vector<char> buffer(kChunk);
    while (done.size() < wanted.size()) {
      auto entry = reader->next();
      if (!entry) {
        return entry.error();
      }
      if (!entry->has_value()) {
        break;
      }
      const auto it = wanted.find((*entry)->name);
      if (it == wanted.end() || done.count(it->first) != 0 ||
          (*entry)->type != TarEntry::Type::kFile) {
        continue;
      }
      CONTD_RETURN_IF_ERROR(writeBlob(*it->second, [&]() -> Result<std::string> {
        auto got = reader->read(buffer.data(), buffer.size());
        if (!got) {
          return got.error();
        }
        return std::string(buffer.data(), *got);
      }));
      done.insert(it->first);
    }
    if (done.size() < wanted.size()) {
      return invalidArgument("import '" + archive_ + "': the archive changed while importing");
    }
    return okStatus();
  }

  Status writeBlobs(const ImportPlan& plan) {
    std::map<std::string, const PlannedBlob*> from_archive;
    std::vector<const PlannedBlob*> all{&plan.config, &plan.manifest};
    for (const auto& layer : plan.layers) {
      all.push_back(&layer);
    }
    for (const PlannedBlob* blob : all) {
      auto have = haveBlob(blob->digest);
      if (!have) {
        return have.error();
      }
      if (*have) {
        continue;
      }
      if (blob->archive_path.empty()) {
        CONTD_RETURN_IF_ERROR(writeFromMemory(*blob));
      } else {
        from_archive.emplace(blob->archive_path, blob);
      }
    }
    return writeFromArchive(from_archive);
  }

  Status setLabels(const std::string& digest, const std::map<std::string, std::string>& labels) {
    content_v1::UpdateRequest request;
    request.mutable_info()->set_digest(digest);
    for (const auto& [key, value] : labels) {
      (*request.mutable_info()->mutable_labels())[key] = value;
      request.mutable_update_mask()->add_paths("labels." + key);
    }
    content_v1::UpdateResponse response;
    return invoke("content.Update", "label blob " + digest, scope_, store_.options_.call_timeout,
                  [&](grpc::ClientContext* ctx) {
                    return stubs_.content->Update(ctx, request, &response);
                  });
  }

  Status unpackLayer(const PlannedBlob& layer, const std::string& diff_id,
                     const std::string& chain_id, const std::string& parent) {
    snapshots_v1::StatSnapshotRequest stat;
    stat.set_snapshotter(kSnapshotter);
    stat.set_key(chain_id);
    snapshots_v1::StatSnapshotResponse stat_response;
    const Status exists = invoke("snapshots.Stat", "stat snapshot " + chain_id, scope_,
                                 store_.options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                   return stubs_.snapshots->Stat(ctx, stat, &stat_response);
                                 });
    if (exists) {
      return addToLease(chain_id, std::string("snapshots/") + kSnapshotter);
    }
    if (!isNotFound(exists)) {
      return exists.error();
    }
    const std::string key = "extract-" + randomHex(12) + "-" + chain_id.substr(7, 12);
    auto mounts = store_.prepareIn(scope_, key, parent);
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
      status = invoke("snapshots.Commit", "commit snapshot " + chain_id, scope_,
                      store_.options_.call_timeout, [&](grpc::ClientContext* ctx) {
                        return stubs_.snapshots->Commit(ctx, commit, &empty);
                      });
      if (status) {
        return okStatus();
      }
      if (status.error().code == Code::kAlreadyExists) {
        status = okStatus();  // unpacked concurrently by another import
      }
    }
    const Status removed = store_.removeIn(scope_, key);
    if (!removed) {
      log::containerd()->warn("import could not remove snapshot key={} ns={}: {}", key,
                              scope_.ns, removed.error().message);
    }
    return status;
  }

  Status apply(const PlannedBlob& layer, const std::string& diff_id,
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
                                 store_.options_.transfer_timeout, [&](grpc::ClientContext* ctx) {
                                   return stubs_.diff->Apply(ctx, request, &response);
                                 }));
    if (response.applied().digest() != diff_id) {
      return invalidArgument("import '" + archive_ + "': layer " + layer.digest +
                             " unpacks to " + response.applied().digest() +
                             ", the config's diff_id is " + diff_id);
    }
    return okStatus();
  }

  Status unpack(const ImportPlan& plan) {
    const auto chain = chainIds(plan.diff_ids);
    for (std::size_t i = 0; i < plan.layers.size(); ++i) {
      CONTD_RETURN_IF_ERROR(
          unpackLayer(plan.layers[i], plan.diff_ids[i], chain[i], i == 0 ? "" : chain[i - 1]));
    }
    return okStatus();
  }

  // Images.Create, or Update of the target when the name exists.
  Status registerImage(const std::string& name, const PlannedBlob& manifest) {
    images_v1::Image image;
    image.set_name(name);
    image.mutable_target()->set_media_type(manifest.media_type);
    image.mutable_target()->set_digest(manifest.digest);
    image.mutable_target()->set_size(static_cast<std::int64_t>(manifest.size));
    images_v1::CreateImageRequest create;
    *create.mutable_image() = image;
    images_v1::CreateImageResponse created;
    const Status status = invoke("images.Create", "create image '" + name + "'", scope_,
                                 store_.options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                   return stubs_.images->Create(ctx, create, &created);
                                 });
    if (status || status.error().code != Code::kAlreadyExists) {
      return status;
    }
    images_v1::UpdateImageRequest update;
    *update.mutable_image() = image;
    update.mutable_update_mask()->add_paths("target");
    images_v1::UpdateImageResponse updated;
    return invoke("images.Update", "update image '" + name + "'", scope_,
                  store_.options_.call_timeout, [&](grpc::ClientContext* ctx) {
                    return stubs_.images->Update(ctx, update, &updated);
                  });
  }

  Status run(const ImportPlan& plan, const std::string& name) {
    CONTD_RETURN_IF_ERROR(writeBlobs(plan));
    std::map<std::string, std::string> refs{{kGcRefConfig, plan.config.digest}};
    for (std::size_t i = 0; i < plan.layers.size(); ++i) {
      refs[kGcRefLayerPrefix + std::to_string(i)] = plan.layers[i].digest;
    }
    CONTD_RETURN_IF_ERROR(setLabels(plan.manifest.digest, refs));
    CONTD_RETURN_IF_ERROR(unpack(plan));
    if (!plan.diff_ids.empty()) {
      CONTD_RETURN_IF_ERROR(
          setLabels(plan.config.digest, {{kGcRefSnapshot, chainIds(plan.diff_ids).back()}}));
    }
    return registerImage(name, plan.manifest);
  }

private:
  GrpcImageStore& store_;
  Stubs& stubs_;
  Scope scope_;
  std::string archive_;
};

GrpcImageStore::GrpcImageStore(Options options, std::unique_ptr<Stubs> stubs)
    : options_(options), stubs_(std::move(stubs)) {}

GrpcImageStore::~GrpcImageStore() = default;

Result<std::unique_ptr<GrpcImageStore>> GrpcImageStore::connect(const std::string& socket_path) {
  return connect(socket_path, Options{});
}

Result<std::unique_ptr<GrpcImageStore>> GrpcImageStore::connect(const std::string& socket_path,
                                                                Options options) {
  if (socket_path.empty()) {
    return invalidArgument("connect image store to containerd: empty socket path");
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
  return std::unique_ptr<GrpcImageStore>(
      new GrpcImageStore(options, std::make_unique<Stubs>(std::move(channel))));
}

std::uint64_t GrpcImageStore::blobsWritten() const { return stubs_->blobs_written.load(); }

Result<std::vector<std::string>> GrpcImageStore::listLeases(std::string_view ns) {
  leases_v1::ListRequest request;
  leases_v1::ListResponse response;
  CONTD_RETURN_IF_ERROR(invoke("leases.List", "list leases", Scope{ns, ""}, options_.call_timeout,
                               [&](grpc::ClientContext* ctx) {
                                 return stubs_->leases->List(ctx, request, &response);
                               }));
  std::vector<std::string> ids;
  for (const auto& lease : response.leases()) {
    ids.push_back(lease.id());
  }
  return ids;
}

Result<ImageInfo> GrpcImageStore::importImage(std::string_view ns,
                                              const std::string& archive_path,
                                              std::string_view name) {
  const auto start = std::chrono::steady_clock::now();
  auto scan = scanArchive(archive_path);
  if (!scan) {
    return scan.error();
  }
  auto plan = planImport(archive_path, *scan);
  if (!plan) {
    return plan.error();
  }
  const std::string image_name = name.empty() ? plan->name : std::string(name);
  if (image_name.empty()) {
    return invalidArgument("import '" + archive_path +
                           "': the archive names no image: give a name");
  }
  Import import(*this, ns, archive_path);
  CONTD_RETURN_IF_ERROR(import.createLease());
  const Status status = import.run(*plan, image_name);
  import.deleteLease();
  if (!status) {
    return status.error();
  }
  log::containerd()->info(
      "imported image ns={} name={} manifest={} layers={} ms={}", ns, image_name,
      plan->manifest.digest, plan->layers.size(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            start)
          .count());
  return getImage(ns, image_name);
}

Result<std::vector<SnapshotMount>> GrpcImageStore::prepareIn(const Scope& scope,
                                                             std::string_view key,
                                                             std::string_view parent) {
  snapshots_v1::PrepareSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  request.set_parent(std::string(parent));
  snapshots_v1::PrepareSnapshotResponse response;
  CONTD_RETURN_IF_ERROR(invoke("snapshots.Prepare", "prepare snapshot '" + std::string(key) + "'",
                               scope, options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return stubs_->snapshots->Prepare(ctx, request, &response);
                               }));
  std::vector<SnapshotMount> mounts;
  for (const auto& m : response.mounts()) {
    mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  return mounts;
}

Status GrpcImageStore::removeIn(const Scope& scope, std::string_view key) {
  snapshots_v1::RemoveSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  google::protobuf::Empty response;
  const Status status = invoke("snapshots.Remove", "remove snapshot '" + std::string(key) + "'",
                               scope, options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return stubs_->snapshots->Remove(ctx, request, &response);
                               });
  return isNotFound(status) ? okStatus() : status;
}

Result<std::vector<SnapshotMount>> GrpcImageStore::prepareSnapshot(std::string_view ns,
                                                                   std::string_view key,
                                                                   std::string_view parent) {
  const Scope scope{ns, ""};
  return prepareIn(scope, key, parent);
}

Result<std::vector<SnapshotMount>> GrpcImageStore::snapshotMounts(std::string_view ns,
                                                                  std::string_view key) {
  snapshots_v1::MountsRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  snapshots_v1::MountsResponse response;
  CONTD_RETURN_IF_ERROR(invoke("snapshots.Mounts", "mounts of snapshot '" + std::string(key) + "'",
                               Scope{ns, ""}, options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return stubs_->snapshots->Mounts(ctx, request, &response);
                               }));
  std::vector<SnapshotMount> mounts;
  for (const auto& m : response.mounts()) {
    mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  return mounts;
}

Status GrpcImageStore::removeSnapshot(std::string_view ns, std::string_view key) {
  const Scope scope{ns, ""};
  return removeIn(scope, key);
}

Result<bool> GrpcImageStore::hasSnapshot(std::string_view ns, std::string_view key) {
  snapshots_v1::StatSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  snapshots_v1::StatSnapshotResponse response;
  const Status status = invoke("snapshots.Stat", "stat snapshot '" + std::string(key) + "'",
                               Scope{ns, ""}, options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return stubs_->snapshots->Stat(ctx, request, &response);
                               });
  if (isNotFound(status)) {
    return false;
  }
  CONTD_RETURN_IF_ERROR(status);
  return true;
}

Result<std::string> GrpcImageStore::readBlob(std::string_view ns, const std::string& digest) {
  content_v1::ReadContentRequest request;
  request.set_digest(digest);
  std::string data;
  CONTD_RETURN_IF_ERROR(invoke("content.Read", "read blob " + digest, Scope{ns, ""},
                               options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 auto reader = stubs_->content->Read(ctx, request);
                                 content_v1::ReadContentResponse chunk;
                                 while (reader->Read(&chunk)) {
                                   data += chunk.data();
                                   if (data.size() > (4u << 20)) {
                                     ctx->TryCancel();
                                     break;
                                   }
                                 }
                                 return reader->Finish();
                               }));
  return data;
}

Result<ImageInfo> GrpcImageStore::describe(std::string_view ns, const std::string& name,
                                           const std::string& media_type,
                                           const std::string& manifest_digest,
                                           std::uint64_t manifest_size) {
  ImageInfo info;
  info.name = name;
  info.media_type = media_type;
  info.manifest_digest = manifest_digest;
  info.size = manifest_size;
  auto manifest_text = readBlob(ns, manifest_digest);
  if (!manifest_text) {
    return manifest_text.error();
  }
  try {
    const auto manifest = nlohmann::json::parse(*manifest_text);
    info.config_digest = manifest.at("config").at("digest").get<std::string>();
    info.size += manifest.at("config").at("size").get<std::uint64_t>();
    for (const auto& layer : manifest.at("layers")) {
      info.size += layer.at("size").get<std::uint64_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    return internalError("image '" + name + "': manifest " + manifest_digest + ": " + e.what());
  }
  auto config_text = readBlob(ns, info.config_digest);
  if (!config_text) {
    return config_text.error();
  }
  auto config = parseImageConfig(*config_text, &info.diff_ids);
  if (!config) {
    return internalError("image '" + name + "': " + config.error().message);
  }
  info.config = std::move(*config);
  if (!info.diff_ids.empty()) {
    info.chain_id = chainIds(info.diff_ids).back();
  }
  return info;
}

Result<ImageInfo> GrpcImageStore::getImage(std::string_view ns, std::string_view name) {
  images_v1::GetImageRequest request;
  request.set_name(std::string(name));
  images_v1::GetImageResponse response;
  CONTD_RETURN_IF_ERROR(invoke("images.Get", "get image '" + std::string(name) + "'",
                               Scope{ns, ""}, options_.call_timeout,
                               [&](grpc::ClientContext* ctx) {
                                 return stubs_->images->Get(ctx, request, &response);
                               }));
  const auto& target = response.image().target();
  return describe(ns, response.image().name(), target.media_type(), target.digest(),
                  static_cast<std::uint64_t>(target.size()));
}

Result<std::vector<ImageInfo>> GrpcImageStore::listImages(std::string_view ns) {
  images_v1::ListImagesRequest request;
  images_v1::ListImagesResponse response;
  CONTD_RETURN_IF_ERROR(invoke("images.List", "list images", Scope{ns, ""}, options_.call_timeout,
                               [&](grpc::ClientContext* ctx) {
                                 return stubs_->images->List(ctx, request, &response);
                               }));
  std::vector<ImageInfo> images;
  for (const auto& image : response.images()) {
    auto info = describe(ns, image.name(), image.target().media_type(), image.target().digest(),
                         static_cast<std::uint64_t>(image.target().size()));
    if (!info) {
      return info.error();
    }
    images.push_back(std::move(*info));
  }
  return images;
}

Status GrpcImageStore::removeImage(std::string_view ns, std::string_view name) {
  containers_v1::ListContainersRequest list;
  list.add_filters(containerd::labelFilter({{kImageLabel, std::string(name)}}));
  containers_v1::ListContainersResponse containers;
  CONTD_RETURN_IF_ERROR(invoke("containers.List", "list containers of image", Scope{ns, ""},
                               options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return stubs_->containers->List(ctx, list, &containers);
                               }));
  if (containers.containers_size() > 0) {
    std::string ids;
    for (const auto& container : containers.containers()) {
      ids += (ids.empty() ? "'" : ", '") + container.id() + "'";
    }
    return failedPrecondition("remove image '" + std::string(name) + "' in '" + std::string(ns) +
                              "': in use by container " + ids);
  }
  images_v1::DeleteImageRequest request;
  request.set_name(std::string(name));
  google::protobuf::Empty response;
  return invoke("images.Delete", "remove image '" + std::string(name) + "'", Scope{ns, ""},
                options_.call_timeout,
                [&](grpc::ClientContext* ctx) { return stubs_->images->Delete(ctx, request, &response); });
}

}  // namespace contd::images
