#include "modules/common/proc_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "modules/common/unique_fd.h"

namespace contd {

std::string readProcFile(const std::filesystem::path& path, std::size_t max_bytes) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    return {};
  }
  std::string content;
  char buffer[8192];
  while (content.size() < max_bytes) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return {};
    }
    if (got == 0) {
      break;
    }
    content.append(buffer, static_cast<std::size_t>(got));
  }
  if (content.size() > max_bytes) {
    content.resize(max_bytes);
  }
  return content;
}

}  // namespace contd
