// What a registry answers a pull (modules/images/pull_plan.cc, import_plan.cc): the same
// JSON read as an index, as an image manifest and as an image config.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "modules/images/pull_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace contd::images;
  std::string json(reinterpret_cast<const char*>(data), size);
  auto selected = selectPlatformManifest(json, "fuzz");
  if (selected) {
    (void)isIndexMediaType(selected->media_type);
  }
  PlannedBlob manifest;
  manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
  manifest.data = json;
  auto plan = planFromManifest(manifest, "fuzz");
  (void)plan;
  std::vector<std::string> diff_ids;
  auto config = parseImageConfig(json, &diff_ids);
  (void)config;
  return 0;
}
