#include "modules/images/pull_plan.h"

#include <set>

#include <nlohmann/json.hpp>

#include "modules/common/digest.h"

namespace contd::images {

namespace {

using json = nlohmann::json;

constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kDockerList[] = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";

// Layer media types containerd's diff service applies.
const std::set<std::string>& layerMediaTypes() {
  static const std::set<std::string> types{
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.docker.image.rootfs.diff.tar",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
  };
  return types;
}

Error bad(std::string_view what, const std::string& problem) {
  return invalidArgument(std::string(what) + ": " + problem);
}

Result<PlannedBlob> descriptor(const json& node, std::string_view what, std::string_view role) {
  PlannedBlob blob;
  if (!node.is_object()) {
    return bad(what, std::string(role) + " descriptor is not an object");
  }
  blob.media_type = node.value("mediaType", "");
  blob.digest = node.value("digest", "");
  // Only an unsigned integer: nlohmann would cast a float (3e22) or negative number to
  // uint64, which is undefined behaviour (found by fuzz_image_manifest).
  if (const auto size = node.find("size"); size != node.end()) {
    if (!size->is_number_unsigned()) {
      return bad(what, std::string(role) + " size is not a non-negative integer");
    }
    blob.size = size->get<std::uint64_t>();
  }
  if (!isSha256Digest(blob.digest)) {
    return bad(what, std::string(role) + " has an unsupported digest '" + blob.digest + "'");
  }
  return blob;
}

}  // namespace

bool isIndexMediaType(std::string_view media_type) {
  return media_type == kOciIndex || media_type == kDockerList;
}

Result<PlannedBlob> selectPlatformManifest(const std::string& index_json, std::string_view what) {
  try {
    const json index = json::parse(index_json);
    if (!index.contains("manifests") || !index["manifests"].is_array()) {
      return bad(what, "the index lists no manifests");
    }
    std::string seen;
    for (const json& entry : index["manifests"]) {
      std::string os = kPlatformOs;
      std::string arch = kPlatformArch;
      if (entry.contains("platform") && entry["platform"].is_object()) {
        os = entry["platform"].value("os", "");
        arch = entry["platform"].value("architecture", "");
        seen += (seen.empty() ? "" : ", ") + os + "/" + arch;
      }
      const std::string media_type = entry.value("mediaType", "");
      if (os == kPlatformOs && arch == kPlatformArch &&
          (media_type == kOciManifest || media_type == kDockerManifest)) {
        return descriptor(entry, what, "manifest");
      }
    }
    return bad(what, std::string("no manifest for platform ") + kPlatformOs + "/" +
                         kPlatformArch + (seen.empty() ? "" : " (the image has " + seen + ")"));
  } catch (const json::exception& e) {
    return bad(what, std::string("index is not valid JSON: ") + e.what());
  }
}

Result<ImportPlan> planFromManifest(PlannedBlob manifest, std::string_view what) {
  ImportPlan plan;
  try {
    const json body = json::parse(manifest.data);
    if (!body.contains("config") || !body.contains("layers") || !body["layers"].is_array()) {
      return bad(what, "manifest " + manifest.digest + " has no config or layers");
    }
    auto config = descriptor(body["config"], what, "config");
    if (!config) {
      return config.error();
    }
    plan.config = std::move(*config);
    for (const json& node : body["layers"]) {
      auto layer = descriptor(node, what, "layer");
      if (!layer) {
        return layer.error();
      }
      if (layerMediaTypes().count(layer->media_type) == 0) {
        return bad(what, "layer " + layer->digest + " has media type '" + layer->media_type +
                             "', which contd does not unpack");
      }
      plan.layers.push_back(std::move(*layer));
    }
  } catch (const json::exception& e) {
    return bad(what, "manifest " + manifest.digest + " is not valid JSON: " + e.what());
  }
  plan.manifest = std::move(manifest);
  return plan;
}

}  // namespace contd::images
