#pragma once
// One file of an image as a container of it would see it, read straight from the layer
// directories of an overlayfs snapshot, without mounting anything: overlayfs' lookup rules
// (whiteouts, opaque directories, upper directories hiding lower non-directories) are
// applied here. Used to look up the user of an image's container (/etc/passwd, /etc/group).
// Any thread; reads the filesystem, changes nothing.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/images/image_store.h"

namespace contd::images {

// The overlay attribute marking a directory that hides what lower layers hold under it.
inline constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";

// The layer directories of a snapshot's mounts, top layer first: a "bind" mount -> its
// source; an "overlay" mount -> its upperdir= (when there is one), then its lowerdir=
// split on ':' (and lowerdir+= options, in order). Errors: kInvalidArgument for anything
// else (no mount, several, another type, an overlay without lower directories).
Result<std::vector<std::filesystem::path>> layerDirs(const std::vector<SnapshotMount>& mounts);

// The content of `path` ("/etc/passwd") in the union of `layers` (top first); nullopt when
// the union has no such file. Per path component, the top-most layer that has an entry
// decides: a whiteout (character device 0/0) deletes it; a directory that is opaque
// (kOpaqueXattr "y") or a non-directory hides the lower layers' entries beneath it.
// Symlinks on the way (the file's own included) are followed inside the union, as
// RESOLVE_IN_ROOT would ("/" and ".." stop at the union's root); nothing of the host is
// ever reached through them. Errors: kInvalidArgument for a file that is not a regular
// file, is larger than `max_bytes`, or for more than 40 symlinks on the way; kInternal for
// a layer that cannot be read (naming the path).
Result<std::optional<std::string>> readLayerFile(const std::vector<std::filesystem::path>& layers,
                                                 std::string_view path, std::size_t max_bytes);

}  // namespace contd::images
