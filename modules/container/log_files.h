#pragma once
// Where a container's output goes and what its log driver reports: the one owner of the
// log folder layout and of the binary:// URI that makes containerd's runc shim start
// contd-shim-logs (docs/logs.md).
//
//   <log_root>/<ns>/<name>.log             current file, CRI lines
//   <log_root>/<ns>/<name>.log.<N>         rotated files
//   <log_root>/<ns>/.<name>.log.health     the driver's counters, one JSON line
//
// Thread-safety: const after construction.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/container/defaults.h"
#include "modules/containerd/client.h"

namespace contd::container {

struct LogFilesOptions {
  std::filesystem::path log_root = kDefaultLogRoot;
  std::filesystem::path log_shim = kDefaultLogShim;
  std::uint64_t max_size = kDefaultLogMaxSize;  // rotate past this many bytes; 0: never
  unsigned max_files = kDefaultLogMaxFiles;    // rotated files kept
  std::string policy = kDefaultLogPolicy;      // or "drop" past rate_limit bytes/s
  std::uint64_t rate_limit = kDefaultLogRateLimit;
};

// What contd-shim-logs reports in the health file; zero when it never wrote one.
struct LogHealth {
  std::uint64_t writer_restarts = 0;
  std::uint64_t dropped_bytes = 0;
};

class LogFiles {
public:
  explicit LogFiles(LogFilesOptions options);

  const LogFilesOptions& options() const { return options_; }
  std::filesystem::path path(std::string_view ns, std::string_view name) const;
  // Creates <log_root>/<ns> (0750) when missing.
  Status ensureFolder(std::string_view ns) const;
  // The task's stdio: both streams to one contd-shim-logs (the shim starts one logger for
  // the pair and gives it the container's ids in its environment).
  containerd::TaskIo taskIo() const;
  LogHealth health(std::string_view ns, std::string_view name) const;
  // Whether <name>.log exists (an earlier container of the name may have left it).
  bool exists(std::string_view ns, std::string_view name) const;
  // The files of `name`'s log that exist: <name>.log, its rotated files, the health file.
  std::vector<std::filesystem::path> existingFiles(std::string_view ns,
                                                   std::string_view name) const;
  // Removes the log, its rotated files and the health file of `name`: what a Run that
  // failed made. Missing files are fine; other failures are logged, not returned.
  void remove(std::string_view ns, std::string_view name) const;

private:
  std::filesystem::path healthPath(std::string_view ns, std::string_view name) const;
  // Every file name the log of `name` may have.
  std::vector<std::filesystem::path> candidateFiles(std::string_view ns,
                                                    std::string_view name) const;

  LogFilesOptions options_;
  std::string uri_;  // built once: it depends on the options only
};

}  // namespace contd::container
