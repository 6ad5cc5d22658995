#pragma once
// A streaming reader of tar archives (POSIX ustar, GNU tar's long names and links, pax
// `path`/`linkpath`/`size` records): entries are read one by one from a file, and an entry's
// data in chunks, so an archive of any size needs no more memory than one chunk.
//
// Errors: kInvalidArgument naming the archive and what is wrong ("truncated in the data of
// 'blobs/sha256/ab12…'", "bad header checksum at offset 1024"); kInternal for read errors
// (naming the syscall and errno).
//
// Threading: one owner.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "modules/common/result.h"

namespace contd::images {

struct TarEntry {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink, kOther };
  std::string name;  // as stored, without a leading "./"
  Type type = Type::kOther;
  std::uint64_t size = 0;  // data bytes (0 for anything but kFile)
  std::string link_target;
};

class TarReader {
public:
  // Opens `path`. Errors: kNotFound / kInternal naming the path and errno.
  static Result<TarReader> open(const std::string& path);

  TarReader(TarReader&& other) noexcept;
  TarReader& operator=(TarReader&& other) noexcept;
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;
  ~TarReader();

  // The next entry (skipping what is left of the current one's data), or nullopt at the end
  // of the archive (two zero blocks, or end of file right at a header boundary).
  Result<std::optional<TarEntry>> next();

  // Reads up to `size` bytes of the current entry's data; 0 at the end of the entry.
  Result<std::size_t> read(char* buffer, std::size_t size);

  const std::string& path() const { return path_; }

private:
  TarReader(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  Status readExactly(char* buffer, std::size_t size, std::string_view what);
  Status skip(std::uint64_t bytes, std::string_view what);
  Result<std::string> readWhole(std::uint64_t size, std::string_view what);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t offset_ = 0;     // bytes consumed from the archive
  std::uint64_t remaining_ = 0;  // data bytes of the current entry not yet read
  std::uint64_t padding_ = 0;    // zero bytes after the current entry's data
  std::string current_name_;
};

}  // namespace contd::images
