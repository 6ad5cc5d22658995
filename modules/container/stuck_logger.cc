#include "modules/container/stuck_logger.h"

#include <cstdlib>
#include <string>

#include "modules/common/proc_file.h"

namespace contd::container {
namespace {

constexpr std::string_view kNsVar = "CONTAINER_NAMESPACE=";
constexpr std::string_view kIdVar = "CONTAINER_ID=";

// CONTAINER_NAMESPACE and CONTAINER_ID of a process's environment (empty when absent).
void readIdentity(const std::filesystem::path& environ_file, HostLogger& out) {
  for (const std::string& var : readProcStrings(environ_file)) {
    if (var.starts_with(kNsVar)) {
      out.ns = var.substr(kNsVar.size());
    } else if (var.starts_with(kIdVar)) {
      out.id = var.substr(kIdVar.size());
    }
  }
}

// The value after `log_root` among the driver's key/value arguments (containerd passes
// the log URI's query that way).
std::filesystem::path logRootArgument(const std::filesystem::path& cmdline_file) {
  const std::vector<std::string> args = readProcStrings(cmdline_file);
  for (std::size_t i = 1; i + 1 < args.size(); i += 2) {
    if (args[i] == "log_root") {
      return std::filesystem::path(args[i + 1]);
    }
  }
  return {};
}

}  // namespace

std::vector<HostLogger> findAllLoggers(const std::filesystem::path& executable,
                                       const std::filesystem::path& proc) {
  std::vector<HostLogger> found;
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
    HostLogger logger;
    logger.pid = static_cast<pid_t>(std::atoi(name.c_str()));
    readIdentity(entry.path() / "environ", logger);
    logger.log_root = logRootArgument(entry.path() / "cmdline");
    if (!logger.ns.empty() && !logger.id.empty()) {
      found.push_back(std::move(logger));
    }
  }
  return found;
}

std::vector<pid_t> findLoggers(const std::filesystem::path& executable, std::string_view ns,
                               std::string_view id, const std::filesystem::path& proc) {
  std::vector<pid_t> found;
  for (const auto& logger : findAllLoggers(executable, proc)) {
    if (logger.ns == ns && logger.id == id) {
      found.push_back(logger.pid);
    }
  }
  return found;
}

}  // namespace contd::container
