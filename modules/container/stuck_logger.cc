#include "modules/container/stuck_logger.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace contd::container {

std::vector<pid_t> findLoggers(const std::filesystem::path& executable, std::string_view ns,
                               std::string_view id, const std::filesystem::path& proc) {
  std::vector<pid_t> found;
  const std::string want_ns = "CONTAINER_NAMESPACE=" + std::string(ns);
  const std::string want_id = "CONTAINER_ID=" + std::string(id);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code link_ec;
    if (std::filesystem::read_symlink(entry.path() / "exe", link_ec) != executable) {
      continue;
    }
    std::ifstream in(entry.path() / "environ", std::ios::binary);
    const std::string environ((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool has_ns = false;
    bool has_id = false;
    std::size_t start = 0;
    while (start < environ.size()) {
      std::size_t end = environ.find('\0', start);
      if (end == std::string::npos) {
        end = environ.size();
      }
      const std::string_view var(environ.data() + start, end - start);
      has_ns = has_ns || var == want_ns;
      has_id = has_id || var == want_id;
      start = end + 1;
    }
    if (has_ns && has_id) {
      found.push_back(static_cast<pid_t>(std::atoi(name.c_str())));
    }
  }
  return found;
}

}  // namespace contd::container
