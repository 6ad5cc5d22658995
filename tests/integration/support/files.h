#pragma once
// Reading files a container writes, from the host side of a test.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

namespace contd::testing {

// The whole file; "" when it cannot be read.
std::string readFile(const std::filesystem::path& path);

// The last `max_bytes` of the file; "(no log)" when it cannot be read or is empty. For
// the logs of the daemons the tests start, in failure messages.
std::string logTail(const std::filesystem::path& path, std::size_t max_bytes);

// Reads `path` every 20 ms until `done(text)` holds or `timeout` passes; returns the last text.
std::string waitForFile(const std::filesystem::path& path,
                        const std::function<bool(const std::string&)>& done,
                        std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace contd::testing
