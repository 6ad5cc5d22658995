#include "modules/images/grpc_image_store.h"

#include <google/protobuf/empty.pb.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "modules/images/image_pull.h"
#include "modules/images/import_plan.h"
#include "modules/images/ingest_session.h"
#include "modules/images/layer_files.h"
#include "modules/images/shared_calls.h"
#include "modules/images/tar_reader.h"
#include "modules/registry/curl_http_client.h"

namespace contd::images {

using namespace detail;  // NOLINT: the module's own internals

namespace {

constexpr std::size_t kChunk = 1 << 20;

// When containerd registered `image` (its record's created_at), unix nanoseconds; 0 unset.
std::int64_t registeredNs(const images_v1::Image& image) {
  return image.has_created_at()
             ? google::protobuf::util::TimeUtil::TimestampToNanoseconds(image.created_at())
             : 0;
}

// An image just registered whose config says no creation time was made now, as far as
// anyone can tell (containerd's created_at, which ListImages reports later).
ImageInfo withCreated(ImageInfo info) {
  if (info.created_ns == 0) {
    info.created_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  }
  return info;
}

Timeouts timeoutsOf(const GrpcImageStore::Options& options) {
  return Timeouts{options.call_timeout, options.transfer_timeout};
}

// The second pass over the archive: streams the blobs in `wanted` (by archive path).
Status writeFromArchive(IngestSession& session, const std::string& archive,
                        const std::map<std::string, const PlannedBlob*>& wanted) {
  if (wanted.empty()) {
    return okStatus();
  }
  auto reader = TarReader::open(archive);
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
    auto writer = session.openWriter(*it->second);
    for (;;) {
      auto got = reader->read(buffer.data(), buffer.size());
      if (!got) {
        return got.error();
      }
      if (*got == 0) {
        break;
      }
      CONTD_RETURN_IF_ERROR(writer->write(std::string_view(buffer.data(), *got)));
    }
    CONTD_RETURN_IF_ERROR(writer->commit());
    done.insert(it->first);
  }
  if (done.size() < wanted.size()) {
    return invalidArgument("import '" + archive + "': the archive changed while importing");
  }
  return okStatus();
}

// Writes what the content store lacks: small blobs from memory, the rest from the archive.
Status writeBlobs(IngestSession& session, const std::string& archive, const ImportPlan& plan) {
  std::map<std::string, const PlannedBlob*> from_archive;
  std::vector<const PlannedBlob*> all{&plan.config, &plan.manifest};
  for (const auto& layer : plan.layers) {
    all.push_back(&layer);
  }
  for (const PlannedBlob* blob : all) {
    auto have = session.haveBlob(blob->digest);
    if (!have) {
      return have.error();
    }
    if (*have) {
      continue;
    }
    if (blob->archive_path.empty()) {
      CONTD_RETURN_IF_ERROR(session.writeFromMemory(*blob));
    } else {
      from_archive.emplace(blob->archive_path, blob);
    }
  }
  return writeFromArchive(session, archive, from_archive);
}

}  // namespace

GrpcImageStore::GrpcImageStore(Options options, std::shared_ptr<Connection> connection)
    : options_(std::move(options)), connection_(std::move(connection)) {}

GrpcImageStore::~GrpcImageStore() = default;

Result<std::unique_ptr<GrpcImageStore>> GrpcImageStore::create(
    std::shared_ptr<Connection> connection) {
  return create(std::move(connection), Options{});
}

Result<std::unique_ptr<GrpcImageStore>> GrpcImageStore::create(
    std::shared_ptr<Connection> connection, Options options) {
  if (!connection) {
    return invalidArgument("image store: no connection to containerd");
  }
  return std::unique_ptr<GrpcImageStore>(
      new GrpcImageStore(std::move(options), std::move(connection)));
}

std::uint64_t GrpcImageStore::blobsWritten() const { return blobs_written_.load(); }

Result<std::shared_ptr<registry::HttpClient>> GrpcImageStore::httpClient() {
  std::lock_guard lock(http_mutex_);
  if (!options_.http) {
    auto http = registry::CurlHttpClient::create(registry::CurlHttpClient::Options{});
    if (!http) {
      return http.error();
    }
    options_.http = std::move(*http);
  }
  return options_.http;
}

Result<std::vector<std::string>> GrpcImageStore::listLeases(std::string_view ns) {
  leases_v1::ListRequest request;
  leases_v1::ListResponse response;
  CONTD_RETURN_IF_ERROR(rpc::invoke(imageCall("leases.List", "list leases", ns),
                                    options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                      return connection_->leases->List(ctx, request, &response);
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
  IngestSession session(*connection_, blobs_written_, ns, timeoutsOf(options_),
                        "import '" + archive_path + "'");
  CONTD_RETURN_IF_ERROR(session.createLease("import"));
  Status status = writeBlobs(session, archive_path, *plan);
  if (status) {
    status = session.finish(*plan, image_name);
  }
  session.endLease(status ? IngestSession::LeaseEnd::kDelete
                          : IngestSession::LeaseEnd::kDeleteAndCollect);
  if (!status) {
    return status.error();
  }
  log::containerd()->info(
      "imported image ns={} name={} manifest={} layers={} ms={}", ns, image_name,
      plan->manifest.digest, plan->layers.size(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            start)
          .count());
  return withCreated(imageInfo(image_name, *plan));
}

Result<ImageInfo> GrpcImageStore::pullImage(std::string_view ns, const PullRequest& request,
                                            const PullProgressFn& progress) {
  auto http = httpClient();
  if (!http) {
    return http.error();
  }
  const PullSettings settings{timeoutsOf(options_), options_.parallel_fetches, *http};
  auto pulled = detail::pullImage(*connection_, blobs_written_, ns, request, progress, settings);
  if (!pulled) {
    return pulled.error();
  }
  return withCreated(std::move(pulled).value());
}

Result<std::vector<SnapshotMount>> GrpcImageStore::prepareSnapshot(std::string_view ns,
                                                                   std::string_view key,
                                                                   std::string_view parent) {
  return detail::prepareSnapshot(*connection_, ns, "", key, parent, options_.call_timeout);
}

Result<std::vector<SnapshotMount>> GrpcImageStore::snapshotMounts(std::string_view ns,
                                                                  std::string_view key) {
  snapshots_v1::MountsRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  snapshots_v1::MountsResponse response;
  CONTD_RETURN_IF_ERROR(rpc::invoke(imageCall("snapshots.Mounts", "mounts of snapshot", ns, key),
                                    options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                      return connection_->snapshots->Mounts(ctx, request,
                                                                            &response);
                                    }));
  std::vector<SnapshotMount> mounts;
  for (const auto& m : response.mounts()) {
    mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  return mounts;
}

Status GrpcImageStore::removeSnapshot(std::string_view ns, std::string_view key) {
  return detail::removeSnapshot(*connection_, ns, "", key, options_.call_timeout);
}

Result<bool> GrpcImageStore::hasSnapshot(std::string_view ns, std::string_view key) {
  snapshots_v1::StatSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(std::string(key));
  snapshots_v1::StatSnapshotResponse response;
  const Status status = rpc::invoke(imageCall("snapshots.Stat", "stat snapshot", ns, key),
                                    options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                      return connection_->snapshots->Stat(ctx, request, &response);
                                    });
  if (isNotFound(status)) {
    return false;
  }
  CONTD_RETURN_IF_ERROR(status);
  return true;
}

Result<std::optional<std::string>> GrpcImageStore::readImageFile(std::string_view ns,
                                                                 std::string_view chain_id,
                                                                 const std::string& path,
                                                                 std::size_t max_bytes) {
  const std::string what = "read '" + path + "' of image layers " + std::string(chain_id);
  // A view, not a prepared snapshot: nothing is mounted and nothing can be written; its
  // mounts name the layer directories, which are read directly.
  const std::string key = "contd-view-" + randomHex(16);
  snapshots_v1::ViewSnapshotRequest request;
  request.set_snapshotter(kSnapshotter);
  request.set_key(key);
  request.set_parent(std::string(chain_id));
  snapshots_v1::ViewSnapshotResponse response;
  CONTD_RETURN_IF_ERROR(rpc::invoke(imageCall("snapshots.View", what, ns), options_.call_timeout,
                                    [&](grpc::ClientContext* ctx) {
                                      return connection_->snapshots->View(ctx, request, &response);
                                    }));
  std::vector<SnapshotMount> mounts;
  for (const auto& m : response.mounts()) {
    mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  Result<std::optional<std::string>> content = std::optional<std::string>();
  if (auto dirs = layerDirs(mounts); dirs) {
    content = readLayerFile(*dirs, path, max_bytes);
  } else {
    content = dirs.error().wrap("view '" + key + "'");
  }
  if (auto removed = detail::removeSnapshot(*connection_, ns, "", key, options_.call_timeout);
      !removed) {
    // containerd's GC takes a view nothing references; say so, and go on.
    log::containerd()->warn("remove view ns={} key={} error=\"{}\"", ns, key,
                            removed.error().message);
  }
  if (!content) {
    return content.error().wrap(what);
  }
  return content;
}

Result<ImageInfo> GrpcImageStore::describe(std::string_view ns, const std::string& name,
                                           const std::string& media_type,
                                           const std::string& manifest_digest,
                                           std::uint64_t manifest_size,
                                           std::int64_t registered_ns) {
  ImportPlan plan;
  plan.manifest = {media_type, manifest_digest, manifest_size, "", ""};
  auto manifest_text = readSmallBlob(*connection_, ns, "", manifest_digest, options_.call_timeout);
  if (!manifest_text) {
    return manifest_text.error();
  }
  try {
    const auto manifest = nlohmann::json::parse(*manifest_text);
    plan.config.digest = manifest.at("config").at("digest").get<std::string>();
    plan.config.size = manifest.at("config").at("size").get<std::uint64_t>();
    for (const auto& layer : manifest.at("layers")) {
      PlannedBlob blob;
      blob.size = layer.at("size").get<std::uint64_t>();
      plan.layers.push_back(std::move(blob));
    }
  } catch (const nlohmann::json::exception& e) {
    return internalError("image '" + name + "': manifest " + manifest_digest + ": " + e.what());
  }
  auto config_text = readSmallBlob(*connection_, ns, "", plan.config.digest, options_.call_timeout);
  if (!config_text) {
    return config_text.error();
  }
  auto config = parseImageConfig(*config_text, &plan.diff_ids);
  if (!config) {
    return internalError("image '" + name + "': " + config.error().message);
  }
  plan.image_config = std::move(*config);
  ImageInfo info = imageInfo(name, plan);
  if (info.created_ns == 0) {
    info.created_ns = registered_ns;
  }
  return info;
}

Result<ImageInfo> GrpcImageStore::getImage(std::string_view ns, std::string_view name) {
  images_v1::GetImageRequest request;
  request.set_name(std::string(name));
  images_v1::GetImageResponse response;
  CONTD_RETURN_IF_ERROR(rpc::invoke(
      imageCall("images.Get", "get image", ns, name), options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return connection_->images->Get(ctx, request, &response); }));
  const auto& target = response.image().target();
  return describe(ns, response.image().name(), target.media_type(), target.digest(),
                  static_cast<std::uint64_t>(target.size()), registeredNs(response.image()));
}

Result<std::vector<ImageInfo>> GrpcImageStore::listImages(std::string_view ns) {
  images_v1::ListImagesRequest request;
  images_v1::ListImagesResponse response;
  CONTD_RETURN_IF_ERROR(rpc::invoke(imageCall("images.List", "list images", ns),
                                    options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                      return connection_->images->List(ctx, request, &response);
                                    }));
  std::vector<ImageInfo> images;
  for (const auto& image : response.images()) {
    auto info = describe(ns, image.name(), image.target().media_type(), image.target().digest(),
                         static_cast<std::uint64_t>(image.target().size()), registeredNs(image));
    if (!info) {
      return info.error();
    }
    images.push_back(std::move(*info));
  }
  return images;
}

Result<std::size_t> GrpcImageStore::countImages(std::string_view ns) {
  images_v1::ListImagesRequest request;
  images_v1::ListImagesResponse response;
  CONTD_RETURN_IF_ERROR(rpc::invoke(imageCall("images.List", "list images", ns),
                                    options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                      return connection_->images->List(ctx, request, &response);
                                    }));
  return static_cast<std::size_t>(response.images_size());
}

Status GrpcImageStore::removeImage(std::string_view ns, std::string_view name) {
  containers_v1::ListContainersRequest list;
  list.add_filters(containerd::labelFilter({{kImageLabel, std::string(name)}}));
  containers_v1::ListContainersResponse containers;
  CONTD_RETURN_IF_ERROR(rpc::invoke(imageCall("containers.List", "list containers of image", ns),
                                    options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                      return connection_->containers->List(ctx, list, &containers);
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
  return rpc::invoke(imageCall("images.Delete", "remove image", ns, name), options_.call_timeout,
                     [&](grpc::ClientContext* ctx) {
                       return connection_->images->Delete(ctx, request, &response);
                     });
}

}  // namespace contd::images
