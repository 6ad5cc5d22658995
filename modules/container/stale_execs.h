#pragma once
// Execs a previous contd left behind: when contd dies during an Exec or ExecStream, the
// exec'd process runs on in the container under its shim (its output with no reader: it
// blocks once the pipe is full), containerd keeps its process entry, and its fifos stay
// next to the container's log (".<name>.exec-<pid>-<n>.{in,out,err}", exec_session.h).
// At start, contd ends them: SIGKILL, the entry deleted, the fifos removed.

#include <cstddef>
#include <filesystem>

#include "modules/containerd/client.h"

namespace contd::container {

// Ends the execs of `log_root`'s namespaces whose id was made by another process than
// `own_pid`. Returns how many were ended. An exec containerd cannot be asked about
// (unavailable) keeps its fifos, for the next start.
std::size_t endStaleExecs(containerd::Client& client, const std::filesystem::path& log_root,
                          int own_pid);

}  // namespace contd::container
