#include "modules/container/in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "modules/common/printable.h"
#include "modules/common/unique_fd.h"

namespace contd::container {
namespace {

std::string where(const std::filesystem::path& rootfs, std::string_view path) {
  return inQuotes(path) + " in " + inQuotes(rootfs.native());
}

// `path` opened inside `rootfs` with `flags`; an fd below 0 with errno set when it fails.
Result<UniqueFd> openInRoot(const std::filesystem::path& rootfs, std::string_view path,
                            std::uint64_t flags) {
  const UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) {
    return internalError("open rootfs " + inQuotes(rootfs.native()) + ": " +
                         std::strerror(errno));
  }
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  // In the root, "/etc/passwd" and "etc/passwd" are the same file.
  const std::size_t start = path.find_first_not_of('/');
  const std::string relative = start == std::string_view::npos ? "." : std::string(path.substr(start));
  return UniqueFd(static_cast<int>(
      ::syscall(SYS_openat2, root.get(), relative.c_str(), &how, sizeof(how))));
}

bool isMissing(int err) { return err == ENOENT || err == ENOTDIR || err == ELOOP; }

}  // namespace

Result<std::optional<struct stat>> statInRoot(const std::filesystem::path& rootfs,
                                              std::string_view path) {
  auto file = openInRoot(rootfs, path, O_PATH);
  if (!file) {
    return file.error();
  }
  if (file->get() < 0) {
    const int err = errno;
    if (isMissing(err)) {
      return std::optional<struct stat>();
    }
    return internalError("open " + where(rootfs, path) + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(file->get(), &st) != 0) {
    return internalError("stat " + where(rootfs, path) + ": " + std::strerror(errno));
  }
  return std::optional<struct stat>(st);
}

Result<std::optional<std::string>> readInRoot(const std::filesystem::path& rootfs,
                                              std::string_view path, std::size_t max_bytes) {
  // Looked at (O_PATH) before it is opened for reading: opening a device node or a fifo a
  // rootfs put in place of /etc/passwd could have effects of its own.
  auto located = openInRoot(rootfs, path, O_PATH);
  if (!located) {
    return located.error();
  }
  if (located->get() < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return std::optional<std::string>();
    }
    return internalError("open " + where(rootfs, path) + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(located->get(), &st) != 0) {
    return internalError("stat " + where(rootfs, path) + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return invalidArgument(where(rootfs, path) + " is not a regular file");
  }
  const std::string reopen = "/proc/self/fd/" + std::to_string(located->get());
  const UniqueFd opened(::open(reopen.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (opened.get() < 0) {
    return internalError("open " + where(rootfs, path) + ": " + std::strerror(errno));
  }
  std::string content;
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(opened.get(), buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return internalError("read " + where(rootfs, path) + ": " + std::strerror(errno));
    }
    if (got == 0) {
      break;
    }
    content.append(buffer, static_cast<std::size_t>(got));
    if (content.size() > max_bytes) {
      return invalidArgument(where(rootfs, path) + " is larger than " +
                             std::to_string(max_bytes) + " bytes");
    }
  }
  return std::optional<std::string>(std::move(content));
}

Result<std::optional<std::string>> findProgram(const std::filesystem::path& rootfs,
                                               std::string_view command,
                                               std::string_view working_dir,
                                               std::string_view path_env) {
  std::vector<std::string> candidates;
  if (command.front() == '/') {
    candidates.emplace_back(command);
  } else if (command.find('/') != std::string_view::npos) {
    const std::string cwd = working_dir.empty() ? "/" : std::string(working_dir);
    candidates.push_back(cwd + "/" + std::string(command));
  } else {
    std::size_t start = 0;
    while (start <= path_env.size()) {
      std::size_t end = path_env.find(':', start);
      if (end == std::string_view::npos) {
        end = path_env.size();
      }
      // An empty PATH entry is the current directory, as for execvp.
      std::string dir(path_env.substr(start, end - start));
      candidates.push_back((dir.empty() ? std::string(working_dir.empty() ? "/" : working_dir)
                                        : dir) +
                           "/" + std::string(command));
      start = end + 1;
    }
  }
  for (const auto& candidate : candidates) {
    auto st = statInRoot(rootfs, candidate);
    if (!st) {
      return st.error();
    }
    if (*st && S_ISREG((*st)->st_mode) && ((*st)->st_mode & 0111) != 0) {
      return std::optional<std::string>(candidate);
    }
  }
  return std::optional<std::string>();
}

}  // namespace contd::container
