#pragma once
// The part of a pull that needs neither network nor containerd: reading what a registry
// answered. A tag resolves to an index (pick the manifest for linux/<arch>) or straight to
// an image manifest (its config and layers). Also the image names pulls store images under.
//
// Errors: kInvalidArgument naming `what` ("pull '127.0.0.1:5000/a:1'") and the problem.

#include <string>
#include <string_view>

#include "modules/common/result.h"
#include "modules/images/import_plan.h"

namespace contd::images {

// An OCI index or a docker manifest list.
bool isIndexMediaType(std::string_view media_type);

// The descriptor (media type, digest, size; no data) of the manifest for linux/<arch>
// in an index. Nested indexes are not followed.
Result<PlannedBlob> selectPlatformManifest(const std::string& index_json, std::string_view what);

// Config and layer descriptors of an image manifest (`manifest.data` holds its JSON); the
// plan's diff_ids and image_config are filled later from the config. Accepts OCI and
// docker schema 2 manifests with tar, tar+gzip and tar+zstd layers.
Result<ImportPlan> planFromManifest(PlannedBlob manifest, std::string_view what);

}  // namespace contd::images
