// An image archive to import (modules/images/import_plan.cc): the scan (tar entries, blob
// digests, the small JSON files) and the plan read from its index.json / manifest.json,
// image config and layers.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modules/images/import_plan.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace contd::images;
  auto path = contd::fuzz::writeScratchFile(
                  "image.tar", std::string_view(reinterpret_cast<const char*>(data), size))
                  .string();
  auto scan = scanArchive(path);
  if (!scan) {
    return 0;
  }
  auto plan = planImport(path, *scan);
  if (plan) {
    (void)imageInfo("fuzz", *plan);
  }
  return 0;
}
