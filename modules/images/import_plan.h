#pragma once
// The part of an import that needs no containerd: read the archive once (hashing every
// file, keeping small JSON files in memory) and work out which manifest, config and layers
// make the image. The archive is then read a second time to write the blobs containerd
// lacks (grpc_image_store.cc), so no archive is ever held in memory.
//
// Formats:
//   OCI image layout           docker save (docker <= 24)
//   ├── oci-layout             ├── manifest.json   [{Config, RepoTags, Layers}]
//   ├── index.json             ├── <hex>.json      the image config
//   └── blobs/sha256/<hex>     └── <id>/layer.tar  uncompressed layers (may be symlinks)
// An archive with both index.json and manifest.json (docker >= 25) is read as OCI.
//
// Errors: kInvalidArgument naming the archive and the problem.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modules/common/result.h"
#include "modules/images/image_store.h"

namespace contd::images {

// linux/<GOARCH of this build>: the only platform an import takes.
inline constexpr char kPlatformOs[] = "linux";
#if defined(__aarch64__)
inline constexpr char kPlatformArch[] = "arm64";
#else
inline constexpr char kPlatformArch[] = "amd64";
#endif

struct ArchiveFile {
  std::string digest;
  std::uint64_t size = 0;
  bool gzip = false;  // starts with gzip's magic bytes
};

// What one pass over an archive found.
struct ArchiveScan {
  std::map<std::string, ArchiveFile> files;        // regular files by path
  std::map<std::string, std::string> links;        // symlink / hardlink path -> target path
  std::map<std::string, std::string> small_json;   // path -> content (<= 1 MiB, JSON-looking)
};

// A blob the image needs: from the archive (archive_path) or made here (data).
struct PlannedBlob {
  std::string media_type;
  std::string digest;
  std::uint64_t size = 0;
  std::string archive_path;  // empty when `data` holds the blob
  std::string data;
};

struct ImportPlan {
  std::string name;  // from the archive; empty when it names none
  PlannedBlob manifest;
  PlannedBlob config;
  std::vector<PlannedBlob> layers;
  std::vector<std::string> diff_ids;
  ImageConfig image_config;
};

// Reads the whole archive once. Errors: truncation, a corrupt header, a blob under
// blobs/sha256/ whose content does not match its name.
Result<ArchiveScan> scanArchive(const std::string& archive_path);

// Picks the manifest for linux/<arch> and checks that every blob it needs is in the archive
// and that layers match the config's diff_ids where they can be checked (uncompressed).
Result<ImportPlan> planImport(const std::string& archive_path, const ArchiveScan& scan);

// What ImageStore reports for an image registered as `name` from `plan` (sizes summed,
// top chain ID); needs no containerd.
ImageInfo imageInfo(const std::string& name, const ImportPlan& plan);

// Parses an image config blob (OCI image-spec / docker) for diff_ids and the run settings.
Result<ImageConfig> parseImageConfig(const std::string& json, std::vector<std::string>* diff_ids);

}  // namespace contd::images
