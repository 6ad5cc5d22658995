#pragma once
// The files of one container log, held open: <id>.log and its rotated predecessors
// <id>.log.1 (newest) ... <id>.log.N (oldest), as contd-shim-logs leaves them (docs/logs.md).
//
// Readers hold fds rather than names because the writer renames every file at each
// rotation: an open fd keeps the bytes it names, whatever is renamed or removed meanwhile.
//
// Thread-safety: none needed; plain functions over the file system.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "modules/common/unique_fd.h"

namespace contd::container {

// Which file an fd or a name is, across renames.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

std::optional<FileId> fileIdOf(int fd);
std::optional<FileId> fileIdOf(const std::filesystem::path& path);

struct HeldLogFile {
  unsigned number = 0;  // 0 for <id>.log, k for <id>.log.k (when it was opened)
  std::filesystem::path path;
  UniqueFd fd;
  FileId id;
  std::uint64_t size = 0;  // when opened: what a read "as of now" covers
};

// Opens <id>.log, then <id>.log.1, .2, ... (every number the folder holds), newest first,
// and returns them oldest first. Rotation shifts names towards higher numbers while this
// runs, the same way the scan goes, so no file is missed; one met twice is kept once. A
// file gone in between (the oldest, dropped by a rotation) is skipped.
std::vector<HeldLogFile> holdLogFiles(const std::filesystem::path& log_file);

// The index of `id` in `files`, when it is among them.
std::optional<std::size_t> findHeld(const std::vector<HeldLogFile>& files, const FileId& id);

}  // namespace contd::container
