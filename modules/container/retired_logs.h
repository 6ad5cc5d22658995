#pragma once
// The logs of deleted containers, on disk (docs/logs.md#retention): the one owner of their
// layout. A Delete moves the container's log files, unchanged, into a folder of their own
// named for the name and the time of the deletion:
//
//   <log_root>/<ns>/deleted/<name>@<YYYYMMDDTHHMMSS.uuuuuuZ>/<name>.log[.N]
//                                                           /.<name>.log.health
//
// '@' is not allowed in a container name, so the folder's name splits without doubt; the
// times have a fixed width, so they sort as text. Pure file-system functions (LogRetention,
// log_retention.h, adds the limits and the thread that applies them); any thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::container {

using WallClock = std::chrono::system_clock;

// One deleted container's kept log.
struct RetiredLog {
  std::filesystem::path folder;  // <log_root>/<ns>/deleted/<name>@<time>
  std::filesystem::path log;     // folder/<name>.log: what readLog reads
  WallClock::time_point deleted_at;
  std::uint64_t bytes = 0;  // what it takes on disk, folder and files (set by listRetired and
                            // retireFiles)
};

// The folder's name for a deletion at `when`: "<name>@20261206T130421.123456Z".
std::string retiredFolderName(std::string_view name, WallClock::time_point when);
// The name and time back from a folder's name; nullopt for anything else.
std::optional<std::pair<std::string, WallClock::time_point>> parseRetiredFolderName(
    std::string_view folder_name);

// Moves `files` (paths in <log_root>/<ns>) into a new retired folder of `name` (at `when`,
// or a microsecond later while that folder exists) and returns that folder, with its disk use.
// Nothing to move makes no folder (nullopt). Files that vanished meanwhile are skipped;
// other failures are returned, naming the file.
Result<std::optional<RetiredLog>> retireFiles(const std::filesystem::path& log_root,
                                              std::string_view ns, std::string_view name,
                                              const std::vector<std::filesystem::path>& files,
                                              WallClock::time_point when);

// The newest retired log of `name` in `ns`, or nullopt when there is none.
std::optional<RetiredLog> newestRetired(const std::filesystem::path& log_root,
                                        std::string_view ns, std::string_view name);

// Every retired log under `log_root`, oldest first, with its disk use. Entries that are not
// retired folders are left out (and left alone).
std::vector<RetiredLog> listRetired(const std::filesystem::path& log_root);

struct SweepResult {
  std::size_t removed = 0;       // folders removed
  std::size_t kept = 0;          // folders kept
  std::uint64_t kept_bytes = 0;  // what they take on disk
};

// Takes off the front of `kept` (oldest first, `*kept_bytes` their sizes) the logs deleted
// `max_age` or longer before `now`, then as many more as it takes to leave at most
// `max_bytes`; returns them, oldest first. Touches no file.
std::vector<RetiredLog> takeExpired(std::deque<RetiredLog>& kept, std::uint64_t* kept_bytes,
                                    WallClock::time_point now, std::chrono::milliseconds max_age,
                                    std::uint64_t max_bytes);

// Removes a retired log's folder; false (logged) when it cannot.
bool removeRetired(const RetiredLog& retired);

}  // namespace contd::container
