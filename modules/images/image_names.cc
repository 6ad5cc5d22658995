// findImage: an image name resolved exactly first, then in its normalised form.

#include "modules/images/image_names.h"

#include "modules/registry/reference.h"

namespace contd::images {

Status checkImageName(std::string_view field, std::string_view name) {
  if (name.empty()) {
    return okStatus();
  }
  auto parsed = registry::parseReference(name, field);
  if (!parsed) {
    return parsed.error();
  }
  return okStatus();
}

std::string normalisedImageName(std::string_view name) {
  auto parsed = registry::parseReference(name);
  return parsed ? parsed->name() : std::string();
}

Result<ImageInfo> findImage(ImageStore& store, std::string_view ns, std::string_view name) {
  auto exact = store.getImage(ns, name);
  if (exact || exact.error().code != Code::kNotFound) {
    return exact;
  }
  const std::string normalised = normalisedImageName(name);
  if (normalised.empty() || normalised == name) {
    return exact;
  }
  auto found = store.getImage(ns, normalised);
  if (found || found.error().code != Code::kNotFound) {
    return found;
  }
  return notFound("image '" + std::string(name) + "' in '" + std::string(ns) +
                  "': not found (nor as '" + normalised + "')");
}

}  // namespace contd::images
