// Image archives (modules/images/tar_reader.cc): every entry of an untrusted tar and all
// of its data, as an import reads them.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modules/images/tar_reader.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto path = contd::fuzz::writeScratchFile(
      "archive.tar", std::string_view(reinterpret_cast<const char*>(data), size));
  auto reader = contd::images::TarReader::open(path);
  if (!reader) {
    __builtin_trap();  // the file was just written
  }
  char buffer[700];
  for (;;) {
    auto entry = reader->next();
    if (!entry || !*entry) {
      break;
    }
    for (;;) {
      auto n = reader->read(buffer, sizeof buffer);
      if (!n || *n == 0) {
        break;
      }
    }
  }
  return 0;
}
