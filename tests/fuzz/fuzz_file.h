#pragma once
// For harnesses of readers that take a path: a private scratch directory per fuzzer process
// (under $TMPDIR or /tmp), removed at exit, and the input written to a file in it.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace contd::fuzz {

inline const std::filesystem::path& scratchDir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/contd-fuzz-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      std::abort();
    }
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratchDir(), ignored);
    });
    return std::filesystem::path(templ);
  }();
  return dir;
}

// Writes `data` to scratchDir()/name (replacing it) and returns its path.
inline std::filesystem::path writeScratchFile(const std::string& name, std::string_view data) {
  auto path = scratchDir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) {
    std::abort();
  }
  return path;
}

}  // namespace contd::fuzz
