#pragma once
// What the image calls of ContainersApi share (containers_api.cc, import_stream_api.cc).

#include <cstdint>
#include <string_view>

#include "contd/v1/images.pb.h"
#include "modules/common/result.h"
#include "modules/container/service.h"
#include "modules/images/image_store.h"

namespace contd::api {

// The most ImportImageStream spools for one archive when the caller gives no size: 16 GiB.
inline constexpr std::uint64_t kMaxStreamedArchiveBytes = std::uint64_t{16} << 30;

// The core's image store, after checking the namespace. FAILED_PRECONDITION without one.
Result<images::ImageStore*> imageStore(container::ContainerService& core, std::string_view ns);

void imageToProto(const images::ImageInfo& info, v1::ImageInfo* proto);

}  // namespace contd::api
