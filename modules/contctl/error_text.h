#pragma once
// The one line contctl prints when a call fails: what is wrong and what to do, instead of
// gRPC's transport words. contd's own errors keep their "CODE: message" (scripts and the
// docs quote them); a socket contd cannot be reached at, a call that timed out and a
// registry that refuses the credentials are said in plain words. --debug adds the raw
// detail on a line of its own.

#include <chrono>
#include <string>
#include <string_view>

#include "modules/contctl/args.h"

namespace contd::contctl {

// What is wrong with the socket's path, seen from this process.
struct SocketProbe {
  enum Problem { kNone, kMissing, kNotASocket, kPermissionDenied } problem = kNone;
  std::string group;  // the socket's group (name, else its number), for kPermissionDenied
};

// stat and access(R|W) of `path`; reads the file system only.
SocketProbe probeSocket(const std::string& path);

// `raw` is the Client's error, "CODE: message"; `command` the contctl command ("ls");
// `deadline` the client's read deadline. Pure.
//   UNAVAILABLE + missing  "cannot reach contd at unix:PATH: no such socket (is contd running?)"
//   UNAVAILABLE + EACCES   "cannot reach contd at unix:PATH: permission denied (join group
//                          'contd', the socket's group, or run as root)"
//   UNAVAILABLE otherwise  "cannot reach contd at unix:PATH: connection refused (is contd
//                          running?)" or gRPC's reason
//   DEADLINE_EXCEEDED from the client  "contd did not answer 'ls' within 10s (busy or stuck? ...)"
std::string errorLine(std::string_view raw, const std::string& socket, const SocketProbe& probe,
                      std::string_view command, std::chrono::seconds deadline);

// Prints "contctl: " and errorLine(...) of `raw` for `inv` to stderr, and with --debug the
// raw detail on a second line ("contctl: detail: CODE: message").
void printError(const Invocation& inv, std::string_view raw);

}  // namespace contd::contctl
