#pragma once
// Reading a small file of /proc (cmdline, environ, a config file a process names) with
// read(2). A process can exit while it is read: then read fails with ESRCH, which an
// std::ifstream turns into an exception thrown through istreambuf_iterator (it once ended
// contd). Any thread.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace contd {

// The first `max_bytes` of `path`; "" when it cannot be opened or read (the process is
// gone, or the file was never there), which callers treat as "nothing to see".
std::string readProcFile(const std::filesystem::path& path, std::size_t max_bytes = 1 << 20);

// A file of NUL-ended strings (cmdline, environ) as its strings; empty as above.
std::vector<std::string> readProcStrings(const std::filesystem::path& path);

// The state letter and parent pid of /proc/<pid>/stat, given /proc/<pid> (the fields after
// the parenthesised command, which may itself hold spaces and parentheses); none when the
// process is gone.
struct ProcStat {
  char state = 0;
  int parent = 0;
};
std::optional<ProcStat> readProcStat(const std::filesystem::path& pid_dir);

// The cgroup paths of /proc/<pid>/cgroup, given /proc/<pid>: the part after the second
// colon of each line ("12:pids:/ns/web" gives "/ns/web"); empty when the process is gone.
std::vector<std::string> readProcCgroups(const std::filesystem::path& pid_dir);

}  // namespace contd
