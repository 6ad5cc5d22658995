#pragma once
// The zbus Logs call: the last lines of a container's log file as the container wrote them.
//
// The file holds either raw output (containerd's file:// driver) or CRI lines
// (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`, contd-shim-logs). A line that matches the
// CRI form loses its framing; P (partial) pieces are joined, per stream, with the piece
// that completes them. Any other line is kept as it is.
//
// Pure functions apart from reading the file; any thread.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "modules/common/result.h"

namespace contd::zbus {

// The text of the last `lines` logical lines of `text`, each ending in '\n' except a last
// one the file does not end yet. With `cut_start`, the first physical line is dropped
// (it may have been cut by the read window).
std::string lastLogLines(std::string_view text, std::size_t lines, bool cut_start = false);

// The same from the end of the file at `path`, reading at most `max_bytes` of it.
// Errors: sysError of open/read ("open '<path>': No such file or directory", kNotFound).
Result<std::string> tailLogFile(const std::filesystem::path& path, std::size_t lines,
                                std::size_t max_bytes = 4U << 20);

}  // namespace contd::zbus
