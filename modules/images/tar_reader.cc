#include "modules/images/tar_reader.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace contd::images {
namespace {

constexpr std::size_t kBlock = 512;

// Numeric header fields are octal text, or base-256 (GNU) when the high bit is set.
std::optional<std::uint64_t> parseNumber(const char* field, std::size_t size) {
  const auto first = static_cast<unsigned char>(field[0]);
  if ((first & 0x80) != 0) {
    std::uint64_t value = first & 0x7f;
    for (std::size_t i = 1; i < size; ++i) {
      value = (value << 8) | static_cast<unsigned char>(field[i]);
    }
    return value;
  }
  std::uint64_t value = 0;
  std::size_t i = 0;
  while (i < size && (field[i] == ' ' || field[i] == '\0')) {
    ++i;
  }
  bool any = false;
  for (; i < size && field[i] >= '0' && field[i] <= '7'; ++i) {
    value = value * 8 + static_cast<std::uint64_t>(field[i] - '0');
    any = true;
  }
  for (; i < size; ++i) {
    if (field[i] != ' ' && field[i] != '\0') {
      return std::nullopt;
    }
  }
  return any ? std::optional<std::uint64_t>(value) : std::optional<std::uint64_t>(0);
}

std::string fieldText(const char* field, std::size_t size) {
  return std::string(field, strnlen(field, size));
}

std::string cleanName(std::string name) {
  while (name.rfind("./", 0) == 0) {
    name.erase(0, 2);
  }
  while (name.size() > 1 && name.back() == '/') {
    name.pop_back();
  }
  return name;
}

// An all-zero block ends the archive.
bool isZeroBlock(const char* header) {
  for (std::size_t i = 0; i < kBlock; ++i) {
    if (header[i] != '\0') {
      return false;
    }
  }
  return true;
}

// The checksum is the sum of the header's bytes with its own field taken as spaces.
std::uint64_t headerChecksum(const char* header) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  }
  return sum;
}

// The name field, behind the ustar prefix field when there is one.
std::string headerName(const char* header) {
  std::string name = fieldText(header, 100);
  const bool ustar = std::memcmp(header + 257, "ustar", 5) == 0;
  if (ustar && header[345] != '\0') {
    name = fieldText(header + 345, 155) + "/" + name;
  }
  return name;
}

TarEntry::Type entryType(char typeflag) {
  switch (typeflag) {
    case '0':
    case '\0':
    case '7': return TarEntry::Type::kFile;
    case '5': return TarEntry::Type::kDirectory;
    case '2': return TarEntry::Type::kSymlink;
    case '1': return TarEntry::Type::kHardlink;
    default: return TarEntry::Type::kOther;
  }
}

// pax extended header: records "<len> <key>=<value>\n".
void applyPax(const std::string& data, std::optional<std::string>& path,
              std::optional<std::string>& linkpath, std::optional<std::uint64_t>& size) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t space = data.find(' ', pos);
    if (space == std::string::npos) {
      return;
    }
    const std::uint64_t len = std::strtoull(data.c_str() + pos, nullptr, 10);
    if (len == 0 || pos + len > data.size()) {
      return;
    }
    const std::string record = data.substr(space + 1, pos + len - space - 2);
    const std::size_t eq = record.find('=');
    if (eq != std::string::npos) {
      const std::string key = record.substr(0, eq);
      const std::string value = record.substr(eq + 1);
      if (key == "path") {
        path = value;
      } else if (key == "linkpath") {
        linkpath = value;
      } else if (key == "size") {
        size = std::strtoull(value.c_str(), nullptr, 10);
      }
    }
    pos += len;
  }
}

}  // namespace

Result<TarReader> TarReader::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) {
    const int err = errno;
    if (err == ENOENT) {
      return notFound("open archive '" + path + "': " + std::strerror(err));
    }
    return sysError("open archive '" + path + "'", err);
  }
  return TarReader(path, file);
}

TarReader::TarReader(TarReader&& other) noexcept
    : path_(std::move(other.path_)),
      file_(std::exchange(other.file_, nullptr)),
      offset_(other.offset_),
      remaining_(other.remaining_),
      padding_(other.padding_),
      current_name_(std::move(other.current_name_)) {}

TarReader& TarReader::operator=(TarReader&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) {
      std::fclose(file_);
    }
    path_ = std::move(other.path_);
    file_ = std::exchange(other.file_, nullptr);
    offset_ = other.offset_;
    remaining_ = other.remaining_;
    padding_ = other.padding_;
    current_name_ = std::move(other.current_name_);
  }
  return *this;
}

TarReader::~TarReader() {
  if (file_ != nullptr) {
    std::fclose(file_);
  }
}

Status TarReader::readExactly(char* buffer, std::size_t size, std::string_view what) {
  const std::size_t got = std::fread(buffer, 1, size, file_);
  offset_ += got;
  if (got == size) {
    return okStatus();
  }
  if (std::ferror(file_) != 0) {
    return sysError("read archive '" + path_ + "'", errno);
  }
  return invalidArgument("archive '" + path_ + "' is truncated in " + std::string(what) +
                         " (at offset " + std::to_string(offset_) + ")");
}

Status TarReader::skip(std::uint64_t bytes, std::string_view what) {
  char buffer[8192];
  while (bytes > 0) {
    const std::size_t chunk = bytes < sizeof(buffer) ? static_cast<std::size_t>(bytes)
                                                     : sizeof(buffer);
    CONTD_RETURN_IF_ERROR(readExactly(buffer, chunk, what));
    bytes -= chunk;
  }
  return okStatus();
}

Result<std::string> TarReader::readWhole(std::uint64_t size, std::string_view what) {
  if (size > (1u << 20)) {
    return invalidArgument("archive '" + path_ + "': " + std::string(what) + " of " +
                           std::to_string(size) + " bytes is too large");
  }
  std::string data(static_cast<std::size_t>(size), '\0');
  CONTD_RETURN_IF_ERROR(readExactly(data.data(), data.size(), what));
  CONTD_RETURN_IF_ERROR(skip((kBlock - size % kBlock) % kBlock, what));
  return data;
}

Result<std::optional<TarEntry>> TarReader::next() {
  const std::string current = "the data of '" + current_name_ + "'";
  CONTD_RETURN_IF_ERROR(skip(remaining_ + padding_, current));
  remaining_ = 0;
  padding_ = 0;

  std::optional<std::string> long_name;
  std::optional<std::string> long_link;
  std::optional<std::uint64_t> pax_size;
  for (;;) {
    char header[kBlock];
    const std::uint64_t header_offset = offset_;
    const std::size_t got = std::fread(header, 1, kBlock, file_);
    offset_ += got;
    if (got == 0 && std::feof(file_) != 0 && !long_name && !long_link) {
      return std::optional<TarEntry>();  // end of file at a header boundary
    }
    if (got != kBlock) {
      if (std::ferror(file_) != 0) {
        return sysError("read archive '" + path_ + "'", errno);
      }
      return invalidArgument("archive '" + path_ + "' is truncated in a header (at offset " +
                             std::to_string(header_offset) + ")");
    }
    if (isZeroBlock(header)) {
      return std::optional<TarEntry>();
    }
    const auto stored = parseNumber(header + 148, 8);
    if (!stored || *stored != headerChecksum(header)) {
      return invalidArgument("archive '" + path_ + "' is not a tar archive or is corrupt: bad " +
                             "header checksum at offset " + std::to_string(header_offset));
    }
    const auto size_field = parseNumber(header + 124, 12);
    if (!size_field) {
      return invalidArgument("archive '" + path_ + "': bad size field at offset " +
                             std::to_string(header_offset));
    }
    const char typeflag = header[156];
    const std::uint64_t size = pax_size.value_or(*size_field);
    if (typeflag == 'L' || typeflag == 'K') {  // GNU long name / long link for the next entry
      auto data = readWhole(size, "a GNU long name");
      if (!data) {
        return data.error();
      }
      (typeflag == 'L' ? long_name : long_link) = fieldText(data->data(), data->size());
      continue;
    }
    if (typeflag == 'x' || typeflag == 'g') {
      auto data = readWhole(size, "a pax header");
      if (!data) {
        return data.error();
      }
      if (typeflag == 'x') {
        applyPax(*data, long_name, long_link, pax_size);
      }
      continue;
    }
    TarEntry entry;
    entry.name = cleanName(long_name.value_or(headerName(header)));
    entry.link_target = long_link.value_or(fieldText(header + 157, 100));
    entry.type = entryType(typeflag);
    // Only regular files carry data that callers read; anything else's is skipped.
    entry.size = entry.type == TarEntry::Type::kFile ? size : 0;
    remaining_ = size;
    padding_ = (kBlock - size % kBlock) % kBlock;
    current_name_ = entry.name;
    return std::optional<TarEntry>(std::move(entry));
  }
}

Result<std::size_t> TarReader::read(char* buffer, std::size_t size) {
  if (remaining_ == 0) {
    return std::size_t{0};
  }
  const std::size_t chunk = remaining_ < size ? static_cast<std::size_t>(remaining_) : size;
  CONTD_RETURN_IF_ERROR(readExactly(buffer, chunk, "the data of '" + current_name_ + "'"));
  remaining_ -= chunk;
  return chunk;
}

}  // namespace contd::images
