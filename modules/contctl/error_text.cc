#include "modules/contctl/error_text.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "modules/contctl/client.h"
#include "modules/contctl/option_table.h"

namespace contd::contctl {

SocketProbe probeSocket(const std::string& path) {
  SocketProbe probe;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    probe.problem = errno == EACCES ? SocketProbe::kPermissionDenied : SocketProbe::kMissing;
    return probe;
  }
  if (!S_ISSOCK(st.st_mode)) {
    probe.problem = SocketProbe::kNotASocket;
    return probe;
  }
  if (::access(path.c_str(), R_OK | W_OK) != 0 && errno == EACCES) {
    probe.problem = SocketProbe::kPermissionDenied;
    const struct group* group = ::getgrgid(st.st_gid);
    probe.group = group != nullptr ? group->gr_name : std::to_string(st.st_gid);
  }
  return probe;
}

std::string errorLine(std::string_view raw, const std::string& socket, const SocketProbe& probe,
                      std::string_view command, std::chrono::seconds deadline) {
  const std::string where = "cannot reach contd at unix:" + socket + ": ";
  if (raw.starts_with("UNAVAILABLE: ")) {
    switch (probe.problem) {
      case SocketProbe::kMissing:
        return where + "no such socket (is contd running? --socket or CONTD_SOCKET picks another)";
      case SocketProbe::kNotASocket:
        return where + "not a socket (--socket or CONTD_SOCKET names contd's socket)";
      case SocketProbe::kPermissionDenied:
        return where + "permission denied (" +
               (probe.group.empty() ? std::string("a directory on the way is closed")
                                    : "join group '" + probe.group + "', the socket's group,") +
               " or run as root)";
      case SocketProbe::kNone:
        break;
    }
    if (raw.find("Connection refused") != std::string_view::npos) {
      return where + "connection refused (is contd running?)";
    }
    if (raw.find("Permission denied") != std::string_view::npos) {
      return where + "permission denied (join the socket's group, or run as root)";
    }
  }
  if (raw == "DEADLINE_EXCEEDED: Deadline Exceeded") {  // the client's deadline, not contd's
    return "contd did not answer '" + std::string(command) + "' within " +
           std::to_string(deadline.count()) + "s (busy or stuck? see its log: journalctl -u contd)";
  }
  if (raw.starts_with("UNAUTHENTICATED: ")) {
    return std::string(raw) + " (give the registry's credentials: --creds USER[:PASSWORD])";
  }
  return std::string(raw);
}

void printError(const Invocation& inv, std::string_view raw) {
  std::string_view command = "contctl";
  for (const auto& def : commands()) {
    if (def.command == inv.command) {
      command = def.name;
      break;
    }
  }
  const std::string line =
      errorLine(raw, inv.socket, probeSocket(inv.socket), command, Client::kReadDeadline);
  std::fprintf(stderr, "contctl: %s\n", line.c_str());
  if (inv.debug && line != raw) {
    std::fprintf(stderr, "contctl: detail: %.*s\n", static_cast<int>(raw.size()), raw.data());
  }
}

}  // namespace contd::contctl
