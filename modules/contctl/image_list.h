#pragma once
// contctl images: one table of the images of one namespace or of several, sizes in podman's
// words. Pure functions.

#include <chrono>
#include <string>
#include <vector>

#include "contd/v1/images.pb.h"

namespace contd::contctl {

struct NamespaceImages {
  std::string ns;
  v1::ListImagesResponse images;
};

// [NAMESPACE] NAME DIGEST CREATED SIZE: the NAMESPACE column when `with_namespace` (images
// of every namespace), the digest cut to sha256: and 12 hex digits unless `no_trunc`, the
// creation time as an age at `now` ("2 hours ago", "-" when unknown), the size human
// ("4.3MB"). The header alone when there are no images.
std::string formatImages(const std::vector<NamespaceImages>& lists, bool with_namespace,
                         bool no_trunc, std::chrono::system_clock::time_point now);

// -q: the names only.
std::string imageNames(const std::vector<NamespaceImages>& lists);

}  // namespace contd::contctl
