#pragma once
// A fresh temporary directory that removes itself, and refuses to when something is
// mounted inside it: a recursive delete through a leftover bind mount would delete the
// mount's source (a container rootfs, a host directory).
//
// Threading: one owner; not shared between threads.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::testing {

class TempDir {
public:
  // Creates <$TMPDIR or /tmp>/<prefix>-XXXXXX, mode 0700.
  // Errors: kInternal naming mkdtemp and errno.
  static Result<TempDir> make(std::string_view prefix);

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Calls remove() and reports a failure on stderr (a destructor cannot return it).
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  std::string string() const { return path_.string(); }

  // Deletes the tree. Errors: kFailedPrecondition when a mount point lies at or below the
  // directory (nothing is deleted then); kInternal for a failed delete. Idempotent.
  Status remove();

private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}

  std::filesystem::path path_;
};

// The mount points at or below `dir`, from /proc/self/mountinfo.
Result<std::vector<std::string>> mountsBelow(const std::filesystem::path& dir);

}  // namespace contd::testing
