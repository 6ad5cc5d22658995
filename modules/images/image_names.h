#pragma once
// Image names as callers type them, resolved to the name an image is stored under
// (docs/decisions/image-names.md). Every call that takes an image name (Run's image,
// RemoveImage) looks it up the same way:
//   1. the name exactly as given ("ctl/named:1", "named", "docker.io/library/busybox:latest");
//   2. else its normalised form, as PullImage stores pulled images
//      ("127.0.0.1:5000/ux/busybox" -> "127.0.0.1:5000/ux/busybox:latest",
//       "busybox" -> "docker.io/library/busybox:latest").
// An exact name wins, so every name stored before this rule stays reachable as it is.
// A name given to an import must parse as a reference (checkImageName); it is stored as
// given, not normalised.

#include <string>
#include <string_view>

#include "modules/common/result.h"
#include "modules/images/image_store.h"

namespace contd::images {

// The reference grammar's verdict on a name to store, with `field` named in the error
// ("name 'Bad Name': repository must be lower case"). Empty is fine (the archive's own
// name is then used).
Status checkImageName(std::string_view field, std::string_view name);

// The normalised form of `name` ("busybox" -> "docker.io/library/busybox:latest"), or an
// empty string when it is not a reference.
std::string normalisedImageName(std::string_view name);

// The image `name` means in `ns`, by the rule above. Errors: kNotFound naming what was
// given (and the normalised form when it differs); the store's other errors as they are.
Result<ImageInfo> findImage(ImageStore& store, std::string_view ns, std::string_view name);

}  // namespace contd::images
