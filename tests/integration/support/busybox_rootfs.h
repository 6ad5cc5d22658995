#pragma once
// A minimal root filesystem for test containers: a static busybox and its applets.
//
//   <temp dir>/rootfs/
//   ├── bin/busybox          copy of the host's static busybox
//   ├── bin/sh, bin/sleep …  relative symlinks to busybox, one per applet (busybox --list)
//   ├── etc/passwd, etc/group, etc/hostname
//   └── dev/ proc/ sys/ tmp/ run/ root/ var/   empty mount points (tmp is 1777)
//
// Threading: one owner. Containers may use the rootfs concurrently (read-only use, or each
// writing its own files); it is removed when the object goes away.

#include <filesystem>
#include <string_view>

#include "modules/common/result.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::testing {

// Where Debian's busybox-static puts its binary.
inline constexpr std::string_view kDefaultBusybox = "/bin/busybox";

// Ok when `path` is an executable, statically linked ELF (no program interpreter), so that
// it runs in a rootfs with no libraries. Errors: kNotFound / kFailedPrecondition naming
// the path and the package that provides it.
Status checkStaticBusybox(std::string_view path);

class BusyboxRootfs {
public:
  // Builds the tree above in a fresh temp dir. Errors: those of checkStaticBusybox, and
  // kInternal for failed file operations (naming the path).
  static Result<BusyboxRootfs> build(std::string_view busybox = kDefaultBusybox);

  // The absolute rootfs path, for the OCI spec's root.path.
  const std::filesystem::path& path() const { return rootfs_; }

private:
  BusyboxRootfs(TempDir dir, std::filesystem::path rootfs)
      : dir_(std::move(dir)), rootfs_(std::move(rootfs)) {}

  TempDir dir_;
  std::filesystem::path rootfs_;
};

}  // namespace contd::testing
