#include "modules/images/layer_files.h"

#include <limits.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "modules/common/printable.h"
#include "modules/common/unique_fd.h"

namespace contd::images {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxSymlinks = 40;  // the kernel's MAXSYMLINKS


std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    if (end > start) {
      parts.emplace_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
  return parts;
}

std::string joined(const std::vector<std::string>& components) {
  std::string path;
  for (const auto& c : components) {
    path += "/" + c;
  }
  return path.empty() ? "/" : path;
}

bool isWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

bool isOpaque(int dir_fd) {
  char value[2] = {};
  const ssize_t got = ::fgetxattr(dir_fd, kOpaqueXattr, value, sizeof(value));
  return got == 1 && value[0] == 'y';
}

// What one layer holds at a path.
struct LayerEntry {
  enum class Kind {
    kMissing,  // nothing here: lower layers decide, unless `stop`
    kHidden,   // deleted here (a whiteout on the way, or a non-directory as an ancestor)
    kFile,
    kDirectory,
    kSymlink,
    kOther,  // a device, fifo or socket
  };
  Kind kind = Kind::kMissing;
  bool stop = false;  // an ancestor is opaque in this layer: lower layers do not count
  std::string target;  // of a symlink
  UniqueFd file;             // of a regular file, open for reading
};

Error layerError(std::string_view op, const fs::path& layer, const std::vector<std::string>& at,
                 int err) {
  return internalError(std::string(op) + " " + inQuotes(joined(at), PATH_MAX) + " in layer " +
                       inQuotes(layer.native(), PATH_MAX) + ": " + std::strerror(err));
}

// The entry of `layer` at `components` (non-empty), never following a symlink of the layer.
Result<LayerEntry> lookInLayer(const fs::path& layer, const std::vector<std::string>& components,
                               bool open_file) {
  using Kind = LayerEntry::Kind;
  LayerEntry entry;
  UniqueFd dir(::open(layer.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) {
    return internalError("open layer " + inQuotes(layer.native(), PATH_MAX) + ": " + std::strerror(errno));
  }
  for (std::size_t i = 0; i < components.size(); ++i) {
    const char* name = components[i].c_str();
    const bool last = i + 1 == components.size();
    struct stat st {};
    if (::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        entry.kind = Kind::kMissing;
        return entry;
      }
      return layerError("stat", layer, components, errno);
    }
    if (isWhiteout(st)) {
      entry.kind = Kind::kHidden;
      return entry;
    }
    if (!last) {
      if (!S_ISDIR(st.st_mode)) {
        // Above, the union has a directory here: this layer's non-directory, and all
        // below it, are covered by it.
        entry.kind = Kind::kHidden;
        return entry;
      }
      UniqueFd next(::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (next.get() < 0) {
        return layerError("open", layer, components, errno);
      }
      entry.stop = entry.stop || isOpaque(next.get());
      dir = std::move(next);
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      entry.kind = Kind::kFile;
      if (open_file) {
        entry.file =
            UniqueFd(::openat(dir.get(), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (entry.file.get() < 0) {
          return layerError("open", layer, components, errno);
        }
      }
    } else if (S_ISDIR(st.st_mode)) {
      entry.kind = Kind::kDirectory;
    } else if (S_ISLNK(st.st_mode)) {
      entry.kind = Kind::kSymlink;
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      const ssize_t got = ::readlinkat(dir.get(), name, target.data(), target.size());
      if (got < 0) {
        return layerError("readlink", layer, components, errno);
      }
      target.resize(static_cast<std::size_t>(got));
      entry.target = std::move(target);
    } else {
      entry.kind = Kind::kOther;
    }
  }
  return entry;
}

// The entry of the union at `components`: the top-most layer's that has one.
Result<LayerEntry> lookInUnion(const std::vector<fs::path>& layers,
                               const std::vector<std::string>& components, bool open_file) {
  for (const auto& layer : layers) {
    auto entry = lookInLayer(layer, components, open_file);
    if (!entry) {
      return entry.error();
    }
    if (entry->kind != LayerEntry::Kind::kMissing) {
      return entry;
    }
    if (entry->stop) {
      break;
    }
  }
  return LayerEntry{};  // kMissing
}

Result<std::string> readBounded(int fd, const std::string& where, std::size_t max_bytes) {
  std::string content;
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return internalError("read " + where + ": " + std::strerror(errno));
    }
    if (got == 0) {
      return content;
    }
    content.append(buffer, static_cast<std::size_t>(got));
    if (content.size() > max_bytes) {
      return invalidArgument(where + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
}

}  // namespace

Result<std::vector<fs::path>> layerDirs(const std::vector<SnapshotMount>& mounts) {
  if (mounts.size() != 1) {
    return invalidArgument("expected one snapshot mount, got " + std::to_string(mounts.size()));
  }
  const SnapshotMount& mount = mounts.front();
  std::vector<fs::path> dirs;
  if (mount.type == "bind") {
    if (mount.source.empty()) {
      return invalidArgument("bind mount without a source");
    }
    dirs.emplace_back(mount.source);
    return dirs;
  }
  if (mount.type != "overlay") {
    return invalidArgument("unexpected snapshot mount type " + inQuotes(mount.type));
  }
  std::vector<fs::path> lower;
  for (const auto& option : mount.options) {
    if (option.starts_with("upperdir=")) {
      dirs.emplace_back(option.substr(9));
    } else if (option.starts_with("lowerdir=")) {
      const std::string list = option.substr(9);
      std::size_t start = 0;
      while (start <= list.size()) {
        std::size_t end = list.find(':', start);
        if (end == std::string::npos) {
          end = list.size();
        }
        if (end > start) {
          lower.emplace_back(list.substr(start, end - start));
        }
        start = end + 1;
      }
    } else if (option.starts_with("lowerdir+=")) {
      lower.emplace_back(option.substr(10));
    }
  }
  if (lower.empty()) {
    return invalidArgument("overlay mount without lowerdir");
  }
  dirs.insert(dirs.end(), lower.begin(), lower.end());
  return dirs;
}

Result<std::optional<std::string>> readLayerFile(const std::vector<fs::path>& layers,
                                                 std::string_view path, std::size_t max_bytes) {
  using Kind = LayerEntry::Kind;
  const std::string where = inQuotes(path);
  std::vector<std::string> pending = splitPath(path);
  std::vector<std::string> resolved;  // a directory of the union, symlink-free
  std::size_t next = 0;
  int symlinks = 0;
  while (next < pending.size()) {
    const std::string component = pending[next++];
    if (component == ".") {
      continue;
    }
    if (component == "..") {
      if (!resolved.empty()) {
        resolved.pop_back();
      }
      continue;
    }
    const bool last = next == pending.size();
    resolved.push_back(component);
    auto entry = lookInUnion(layers, resolved, last);
    if (!entry) {
      return entry.error();
    }
    switch (entry->kind) {
      case Kind::kMissing:
      case Kind::kHidden:
        return std::optional<std::string>();
      case Kind::kDirectory:
        if (last) {
          return invalidArgument(where + " is a directory, not a regular file");
        }
        continue;
      case Kind::kFile: {
        if (!last) {
          return std::optional<std::string>();  // a file used as a directory
        }
        auto content = readBounded(entry->file.get(), where, max_bytes);
        if (!content) {
          return content.error();
        }
        return std::optional<std::string>(std::move(*content));
      }
      case Kind::kSymlink: {
        if (++symlinks > kMaxSymlinks) {
          return invalidArgument(where + ": more than " + std::to_string(kMaxSymlinks) +
                                 " symlinks on the way");
        }
        resolved.pop_back();
        if (entry->target.starts_with("/")) {
          resolved.clear();
        }
        std::vector<std::string> rest = splitPath(entry->target);
        rest.insert(rest.end(), pending.begin() + static_cast<std::ptrdiff_t>(next),
                    pending.end());
        pending = std::move(rest);
        next = 0;
        continue;
      }
      case Kind::kOther:
        if (last) {
          return invalidArgument(where + " is not a regular file");
        }
        return std::optional<std::string>();
    }
  }
  // Only "/", "." or ".." components: the root itself.
  return invalidArgument(where + " is a directory, not a regular file");
}

}  // namespace contd::images
