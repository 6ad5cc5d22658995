#include "tests/integration/support/busybox_rootfs.h"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "tests/integration/support/run_command.h"

namespace contd::testing {
namespace {

namespace fs = std::filesystem;

Status writeFile(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    return internalError("write '" + path.string() + "' failed");
  }
  return okStatus();
}

Status makeDir(const fs::path& path, fs::perms perms) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (!ec) {
    fs::permissions(path, perms, ec);
  }
  if (ec) {
    return internalError("create directory '" + path.string() + "': " + ec.message());
  }
  return okStatus();
}

}  // namespace

Status checkStaticBusybox(std::string_view path) {
  const std::string p(path);
  if (::access(p.c_str(), X_OK) != 0) {
    return notFound("a static busybox at '" + p + "' (package busybox-static)");
  }
  // A dynamically linked ELF names its loader in a PT_INTERP program header; a static one
  // has none. Only 64-bit little-endian ELF is expected on the machines we test on.
  std::ifstream in(p, std::ios::binary);
  Elf64_Ehdr header{};
  in.read(reinterpret_cast<char*>(&header), sizeof(header));
  if (!in || std::string_view(reinterpret_cast<const char*>(header.e_ident), 4) != ELFMAG ||
      header.e_ident[EI_CLASS] != ELFCLASS64) {
    return failedPrecondition("'" + p + "' is not a 64-bit ELF binary");
  }
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(header.e_phoff + i * header.e_phentsize));
    in.read(reinterpret_cast<char*>(&ph), sizeof(ph));
    if (!in) {
      return failedPrecondition("'" + p + "': cannot read its program headers");
    }
    if (ph.p_type == PT_INTERP) {
      return failedPrecondition("'" + p + "' is dynamically linked; install busybox-static");
    }
  }
  return okStatus();
}

Result<BusyboxRootfs> BusyboxRootfs::build(std::string_view busybox) {
  CONTD_RETURN_IF_ERROR(checkStaticBusybox(busybox));
  auto dir = TempDir::make("contd-rootfs");
  if (!dir) {
    return dir.error();
  }
  const fs::path rootfs = dir->path() / "rootfs";
  const auto dir_perms = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                         fs::perms::others_read | fs::perms::others_exec;
  for (const char* sub : {"bin", "dev", "etc", "proc", "root", "run", "sys", "var"}) {
    CONTD_RETURN_IF_ERROR(makeDir(rootfs / sub, dir_perms));
  }
  CONTD_RETURN_IF_ERROR(makeDir(rootfs / "tmp", fs::perms::all | fs::perms::sticky_bit));

  std::error_code ec;
  fs::copy_file(busybox, rootfs / "bin/busybox", ec);
  if (ec) {
    return internalError("copy '" + std::string(busybox) + "': " + ec.message());
  }
  // Ask busybox itself which applets it has: the list differs between builds.
  auto applets = runChecked({std::string(busybox), "--list"});
  if (!applets) {
    return applets.error();
  }
  std::istringstream names(*applets);
  std::string name;
  while (names >> name) {
    if (name == "busybox" || name.find('/') != std::string::npos) {
      continue;
    }
    // Relative links stay valid inside the container, whatever the rootfs's host path.
    fs::create_symlink("busybox", rootfs / "bin" / name, ec);
    if (ec) {
      return internalError("symlink '" + (rootfs / "bin" / name).string() + "': " + ec.message());
    }
  }
  CONTD_RETURN_IF_ERROR(writeFile(rootfs / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"));
  CONTD_RETURN_IF_ERROR(writeFile(rootfs / "etc/group", "root:x:0:\n"));
  CONTD_RETURN_IF_ERROR(writeFile(rootfs / "etc/hostname", "contd-test\n"));
  return BusyboxRootfs(std::move(*dir), rootfs);
}

}  // namespace contd::testing
