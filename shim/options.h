#pragma once
// What containerd hands contd-shim-logs, checked before anything touches the disk.
//
// containerd's runc shim turns the stdout/stderr URI
//   binary:///usr/libexec/contd/contd-shim-logs?log_root=/var/log/contd&max_size=10485760&max_files=3
// (optionally followed by `&policy=drop&rate=<bytes/s>`, docs/logs.md "Back-pressure")
// into argv `log_root /var/log/contd max_size 10485760 max_files 3` (key/value pairs, in
// no particular order: Go map iteration) and an environment of only CONTAINER_ID and
// CONTAINER_NAMESPACE (pkg/process/io_util.go NewBinaryCmd).
//
// The log file layout, one file per container:
//
//   <log_root>/                 e.g. /var/log/contd (created when missing)
//   └── <namespace>/            created when missing, mode 0750
//       ├── <id>.log            current file, appended to across task restarts
//       ├── <id>.log.1          newest rotated file
//       ├── …
//       └── <id>.log.<max_files> oldest kept rotated file
//
// std only. Threading: pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::shim {

inline constexpr std::uint64_t kDefaultMaxSize = 10 * 1024 * 1024;
inline constexpr unsigned kDefaultMaxFiles = 3;
inline constexpr unsigned kMaxMaxFiles = 1000;  // a sanity bound on rotation renames
inline constexpr std::size_t kMaxNameLength = 64;

// What happens when the container writes faster than the log may grow (docs/logs.md).
enum class Policy { kBlock, kDrop };
inline constexpr std::uint64_t kDefaultRate = 1024 * 1024;  // bytes/s of records, "drop"

struct Options {
  std::string log_root;                     // absolute; "log_root", required
  std::uint64_t max_size = kDefaultMaxSize;  // "max_size" bytes; 0: never rotate
  unsigned max_files = kDefaultMaxFiles;     // "max_files": rotated files kept, 0..1000
  Policy policy = Policy::kBlock;           // "policy": block | drop
  std::uint64_t rate = kDefaultRate;        // "rate": bytes/s of records kept under drop, > 0
  std::string ns;                           // CONTAINER_NAMESPACE
  std::string id;                           // CONTAINER_ID

  std::string nsDir() const { return log_root + "/" + ns; }
  std::string logPath() const { return nsDir() + "/" + id + ".log"; }
  // The writer's health file: a dot name, so it cannot be a container's log.
  std::string healthPath() const { return nsDir() + "/." + id + ".log.health"; }
};

// True when `name` matches ^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$ and is 1..64 bytes:
// containerd's identifier rule, so the name is one safe path component.
bool isValidName(std::string_view name);

// Parses `args` (argv without argv[0]) as key/value pairs plus the two names.
// Errors (kInvalidArgument, naming the key): odd argument count, unknown or repeated key,
// missing log_root, a log_root that is not absolute or holds "." / ".." components, a
// number that is not plain decimal or out of range, an invalid or missing namespace / id.
Result<Options> parseOptions(const std::vector<std::string_view>& args, const char* ns,
                             const char* id);

}  // namespace contd::shim
