#include "modules/images/import_plan.h"

#include <nlohmann/json.hpp>

#include <set>
#include <utility>

#include "modules/common/digest.h"
#include "modules/common/time_format.h"
#include "modules/images/tar_reader.h"

namespace contd::images {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxJson = 1u << 20;

constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kDockerList[] = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
constexpr char kDockerConfig[] = "application/vnd.docker.container.image.v1+json";
constexpr char kDockerLayer[] = "application/vnd.docker.image.rootfs.diff.tar";
constexpr char kDockerLayerGzip[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";

Error bad(const std::string& archive, const std::string& what) {
  return invalidArgument("import '" + archive + "': " + what);
}

// Symlinks in docker save archives point relative to the link's folder.
std::string resolve(const ArchiveScan& scan, std::string path) {
  for (int hops = 0; hops < 8; ++hops) {
    const auto link = scan.links.find(path);
    if (link == scan.links.end()) {
      break;
    }
    std::string target = link->second;
    if (!target.empty() && target[0] != '/') {
      const auto slash = path.rfind('/');
      target = (slash == std::string::npos ? "" : path.substr(0, slash + 1)) + target;
    }
    // Normalise "a/../b" and "./".
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos <= target.size()) {
      const std::size_t next = std::min(target.find('/', pos), target.size());
      const std::string part = target.substr(pos, next - pos);
      if (part == "..") {
        if (!parts.empty()) {
          parts.pop_back();
        }
      } else if (!part.empty() && part != ".") {
        parts.push_back(part);
      }
      pos = next + 1;
    }
    path.clear();
    for (const auto& part : parts) {
      path += (path.empty() ? "" : "/") + part;
    }
  }
  return path;
}

std::string blobPath(const std::string& digest) { return "blobs/sha256/" + digest.substr(7); }

Result<PlannedBlob> ociBlob(const std::string& archive, const ArchiveScan& scan,
                            const json& descriptor, std::string_view role) {
  PlannedBlob blob;
  blob.media_type = descriptor.value("mediaType", "");
  blob.digest = descriptor.value("digest", "");
  // Only an unsigned integer: nlohmann would cast a float (3e22) or negative number to
  // uint64, which is undefined behaviour (found by fuzz_image_manifest).
  if (const auto size = descriptor.find("size"); size != descriptor.end()) {
    if (!size->is_number_unsigned()) {
      return bad(archive, std::string(role) + " size is not a non-negative integer");
    }
    blob.size = size->get<std::uint64_t>();
  }
  if (!isSha256Digest(blob.digest)) {
    return bad(archive, std::string(role) + " has an unsupported digest '" + blob.digest + "'");
  }
  blob.archive_path = blobPath(blob.digest);
  const auto file = scan.files.find(resolve(scan, blob.archive_path));
  if (file == scan.files.end()) {
    return bad(archive, "missing blob " + blob.digest + " (" + std::string(role) + ")");
  }
  if (file->second.size != blob.size) {
    return bad(archive, "blob " + blob.digest + " (" + std::string(role) + ") has " +
                            std::to_string(file->second.size) + " bytes, its descriptor says " +
                            std::to_string(blob.size));
  }
  blob.archive_path = file->first;
  return blob;
}

const std::string* smallJson(const ArchiveScan& scan, const std::string& path) {
  const auto it = scan.small_json.find(path);
  return it == scan.small_json.end() ? nullptr : &it->second;
}

bool platformMatches(const json& descriptor) {
  if (!descriptor.contains("platform")) {
    return true;
  }
  const json& platform = descriptor["platform"];
  return platform.value("os", "") == kPlatformOs &&
         platform.value("architecture", "") == kPlatformArch;
}

// Depth-first through (nested) indexes to the first manifest for our platform.
Result<json> pickManifest(const std::string& archive, const ArchiveScan& scan, const json& index,
                          int depth, std::vector<std::string>* seen_platforms) {
  if (depth > 4 || !index.contains("manifests") || !index["manifests"].is_array()) {
    return bad(archive, "index has no manifests");
  }
  for (const json& descriptor : index["manifests"]) {
    const std::string media_type = descriptor.value("mediaType", "");
    if (descriptor.contains("platform")) {
      seen_platforms->push_back(descriptor["platform"].value("os", "?") + "/" +
                                descriptor["platform"].value("architecture", "?"));
    }
    if (!platformMatches(descriptor)) {
      continue;
    }
    if (media_type == kOciManifest || media_type == kDockerManifest) {
      return descriptor;
    }
    if (media_type == kOciIndex || media_type == kDockerList) {
      auto blob = ociBlob(archive, scan, descriptor, "index");
      if (!blob) {
        return blob.error();
      }
      const std::string* text = smallJson(scan, blob->archive_path);
      if (text == nullptr) {
        return bad(archive, "index blob " + blob->digest + " is not JSON");
      }
      auto nested = pickManifest(archive, scan, json::parse(*text), depth + 1, seen_platforms);
      if (nested) {
        if (!nested->contains("annotations") && descriptor.contains("annotations")) {
          (*nested)["annotations"] = descriptor["annotations"];
        }
        return nested;
      }
    }
  }
  std::string seen;
  for (const auto& platform : *seen_platforms) {
    seen += (seen.empty() ? "" : ", ") + platform;
  }
  return bad(archive, std::string("no manifest for platform ") + kPlatformOs + "/" +
                          kPlatformArch + (seen.empty() ? "" : " (the archive has " + seen + ")"));
}

Status checkConfigPlatform(const std::string& archive, const json& config) {
  const std::string os = config.value("os", kPlatformOs);
  const std::string arch = config.value("architecture", kPlatformArch);
  if (os != kPlatformOs || arch != kPlatformArch) {
    return bad(archive, "image is for platform " + os + "/" + arch + ", this node runs " +
                            kPlatformOs + "/" + kPlatformArch);
  }
  return okStatus();
}

Result<ImportPlan> planOci(const std::string& archive, const ArchiveScan& scan) {
  const std::string* index_text = smallJson(scan, "index.json");
  if (index_text == nullptr) {
    return bad(archive, "index.json is missing or not JSON");
  }
  std::vector<std::string> platforms;
  auto descriptor = pickManifest(archive, scan, json::parse(*index_text), 0, &platforms);
  if (!descriptor) {
    return descriptor.error();
  }
  ImportPlan plan;
  if (descriptor->contains("annotations")) {
    const json& annotations = (*descriptor)["annotations"];
    plan.name = annotations.value("io.containerd.image.name",
                                  annotations.value("org.opencontainers.image.ref.name", ""));
  }
  auto manifest_blob = ociBlob(archive, scan, *descriptor, "manifest");
  if (!manifest_blob) {
    return manifest_blob.error();
  }
  plan.manifest = std::move(*manifest_blob);
  const std::string* manifest_text = smallJson(scan, plan.manifest.archive_path);
  if (manifest_text == nullptr) {
    return bad(archive, "manifest " + plan.manifest.digest + " is not JSON");
  }
  plan.manifest.data = *manifest_text;
  plan.manifest.archive_path.clear();
  const json manifest = json::parse(*manifest_text);
  auto config_blob = ociBlob(archive, scan, manifest.at("config"), "config");
  if (!config_blob) {
    return config_blob.error();
  }
  plan.config = std::move(*config_blob);
  const std::string* config_text = smallJson(scan, plan.config.archive_path);
  if (config_text == nullptr) {
    return bad(archive, "config " + plan.config.digest + " is not JSON");
  }
  plan.config.data = *config_text;
  plan.config.archive_path.clear();
  for (const json& layer : manifest.at("layers")) {
    auto layer_blob = ociBlob(archive, scan, layer, "layer");
    if (!layer_blob) {
      return layer_blob.error();
    }
    plan.layers.push_back(std::move(*layer_blob));
  }
  return plan;
}

PlannedBlob inMemory(std::string media_type, std::string data) {
  PlannedBlob blob;
  blob.media_type = std::move(media_type);
  blob.digest = sha256Digest(data);
  blob.size = data.size();
  blob.data = std::move(data);
  return blob;
}

Result<ImportPlan> planDockerSave(const std::string& archive, const ArchiveScan& scan) {
  const json entries = json::parse(*smallJson(scan, "manifest.json"));
  if (!entries.is_array() || entries.empty()) {
    return bad(archive, "manifest.json lists no image");
  }
  const json& entry = entries[0];
  ImportPlan plan;
  if (entry.contains("RepoTags") && entry["RepoTags"].is_array() && !entry["RepoTags"].empty()) {
    plan.name = entry["RepoTags"][0].get<std::string>();
  }
  const std::string config_path = resolve(scan, entry.at("Config").get<std::string>());
  const std::string* config_text = smallJson(scan, config_path);
  if (config_text == nullptr) {
    return bad(archive, "missing image config '" + config_path + "'");
  }
  plan.config = inMemory(kDockerConfig, *config_text);
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", kDockerManifest},
                   {"config",
                    {{"mediaType", kDockerConfig},
                     {"digest", plan.config.digest},
                     {"size", plan.config.size}}},
                   {"layers", json::array()}};
  for (const json& layer_path : entry.at("Layers")) {
    const std::string path = resolve(scan, layer_path.get<std::string>());
    const auto file = scan.files.find(path);
    if (file == scan.files.end()) {
      return bad(archive, "missing layer '" + layer_path.get<std::string>() + "'");
    }
    PlannedBlob layer;
    layer.media_type = file->second.gzip ? kDockerLayerGzip : kDockerLayer;
    layer.digest = file->second.digest;
    layer.size = file->second.size;
    layer.archive_path = path;
    manifest["layers"].push_back(
        {{"mediaType", layer.media_type}, {"digest", layer.digest}, {"size", layer.size}});
    plan.layers.push_back(std::move(layer));
  }
  plan.manifest = inMemory(kDockerManifest, manifest.dump());
  return plan;
}

}  // namespace

Result<ImageConfig> parseImageConfig(const std::string& text,
                                     std::vector<std::string>* diff_ids) {
  try {
    const json config = json::parse(text);
    if (diff_ids != nullptr) {
      diff_ids->clear();
      for (const json& id : config.at("rootfs").at("diff_ids")) {
        diff_ids->push_back(id.get<std::string>());
      }
    }
    ImageConfig result;
    if (config.contains("created") && config["created"].is_string()) {
      result.created_ns = parseRfc3339Nano(config["created"].get<std::string>()).value_or(0);
    }
    if (!config.contains("config") || config["config"].is_null()) {
      return result;
    }
    const json& run = config["config"];
    const auto strings = [&](const char* key) {
      std::vector<std::string> values;
      if (run.contains(key) && run[key].is_array()) {
        for (const json& value : run[key]) {
          values.push_back(value.get<std::string>());
        }
      }
      return values;
    };
    result.entrypoint = strings("Entrypoint");
    result.cmd = strings("Cmd");
    result.env = strings("Env");
    if (run.contains("WorkingDir") && run["WorkingDir"].is_string()) {
      result.working_dir = run["WorkingDir"].get<std::string>();
    }
    if (run.contains("User") && run["User"].is_string()) {
      result.user = run["User"].get<std::string>();
    }
    return result;
  } catch (const json::exception& e) {
    return invalidArgument(std::string("image config: ") + e.what());
  }
}

Result<ArchiveScan> scanArchive(const std::string& archive_path) {
  auto reader = TarReader::open(archive_path);
  if (!reader) {
    return reader.error();
  }
  ArchiveScan scan;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    auto entry = reader->next();
    if (!entry) {
      return entry.error();
    }
    if (!entry->has_value()) {
      break;
    }
    const TarEntry& e = **entry;
    if (e.type == TarEntry::Type::kSymlink || e.type == TarEntry::Type::kHardlink) {
      // Hard link targets are archive paths (made absolute so that resolve() does not take
      // them relative to the link's folder); symlink targets are relative to the link.
      scan.links[e.name] = e.type == TarEntry::Type::kHardlink ? "/" + e.link_target
                                                                : e.link_target;
      continue;
    }
    if (e.type != TarEntry::Type::kFile) {
      continue;
    }
    Sha256 hash;
    std::string kept;
    bool keep = e.size <= kMaxJson;
    ArchiveFile file;
    file.size = e.size;
    bool first = true;
    for (;;) {
      auto got = reader->read(buffer.data(), buffer.size());
      if (!got) {
        return got.error();
      }
      if (*got == 0) {
        break;
      }
      const std::string_view chunk(buffer.data(), *got);
      if (first) {
        file.gzip = chunk.size() >= 2 && static_cast<unsigned char>(chunk[0]) == 0x1f &&
                    static_cast<unsigned char>(chunk[1]) == 0x8b;
        const auto start = chunk.find_first_not_of(" \t\r\n");
        keep = keep && start != std::string_view::npos && (chunk[start] == '{' || chunk[start] == '[');
        first = false;
      }
      hash.update(chunk);
      if (keep) {
        kept.append(chunk);
      }
    }
    file.digest = hash.digest();
    if (e.name.rfind("blobs/sha256/", 0) == 0) {
      const std::string named = "sha256:" + e.name.substr(13);
      if (isSha256Digest(named) && named != file.digest) {
        return invalidArgument("import '" + archive_path + "': digest mismatch: blob '" + e.name +
                               "' has digest " + file.digest + " (the archive is corrupt)");
      }
    }
    if (keep && !kept.empty()) {
      scan.small_json[e.name] = std::move(kept);
    }
    scan.files[e.name] = std::move(file);
  }
  return scan;
}

Result<ImportPlan> planImport(const std::string& archive_path, const ArchiveScan& scan) {
  try {
    Result<ImportPlan> plan = bad(archive_path, "");
    if (scan.files.count("index.json") != 0) {
      plan = planOci(archive_path, scan);
    } else if (scan.files.count("manifest.json") != 0) {
      if (smallJson(scan, "manifest.json") == nullptr) {
        return bad(archive_path, "manifest.json is not JSON");
      }
      plan = planDockerSave(archive_path, scan);
    } else {
      return bad(archive_path,
                 "neither an OCI image layout (index.json) nor a docker save archive "
                 "(manifest.json)");
    }
    if (!plan) {
      return plan.error();
    }
    auto config = parseImageConfig(plan->config.data, &plan->diff_ids);
    if (!config) {
      return bad(archive_path, config.error().message);
    }
    plan->image_config = std::move(*config);
    CONTD_RETURN_IF_ERROR(checkConfigPlatform(archive_path, json::parse(plan->config.data)));
    if (plan->diff_ids.size() != plan->layers.size()) {
      return bad(archive_path, "the manifest has " + std::to_string(plan->layers.size()) +
                                   " layers, the config " + std::to_string(plan->diff_ids.size()) +
                                   " diff_ids");
    }
    for (std::size_t i = 0; i < plan->layers.size(); ++i) {
      const PlannedBlob& layer = plan->layers[i];
      const bool gzip = scan.files.at(layer.archive_path).gzip;
      if (!gzip && layer.digest != plan->diff_ids[i]) {
        return bad(archive_path, "digest mismatch: layer " + std::to_string(i + 1) + " ('" +
                                     layer.archive_path + "') has digest " + layer.digest +
                                     ", the config's diff_id is " + plan->diff_ids[i] +
                                     " (the archive is corrupt)");
      }
    }
    return plan;
  } catch (const json::exception& e) {
    return bad(archive_path, std::string("bad JSON: ") + e.what());
  }
}

ImageInfo imageInfo(const std::string& name, const ImportPlan& plan) {
  ImageInfo info;
  info.name = name;
  info.manifest_digest = plan.manifest.digest;
  info.media_type = plan.manifest.media_type;
  info.config_digest = plan.config.digest;
  info.size = plan.manifest.size + plan.config.size;
  for (const auto& layer : plan.layers) {
    info.size += layer.size;
  }
  info.diff_ids = plan.diff_ids;
  if (!info.diff_ids.empty()) {
    info.chain_id = chainIds(info.diff_ids).back();
  }
  info.config = plan.image_config;
  info.created_ns = plan.image_config.created_ns;
  return info;
}

std::vector<std::string> chainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> chain;
  chain.reserve(diff_ids.size());
  for (const auto& diff_id : diff_ids) {
    chain.push_back(chain.empty() ? diff_id : sha256Digest(chain.back() + " " + diff_id));
  }
  return chain;
}

}  // namespace contd::images
