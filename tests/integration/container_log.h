#pragma once
// Waiting for a container's output in its CRI log file, for tests that run a container
// and check what it printed.
//
// Threading: any; reads the file only.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

#include "modules/container/log_reader.h"

namespace contd::testing {

// The log's lines (one per entry, '\n'-terminated) once they hold `needle`, or what they
// held when `timeout` passed.
inline std::string waitForLog(const std::filesystem::path& log, std::string_view needle,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string output;
    if (auto lines = container::readLog(log, {}); lines) {
      for (const auto& line : *lines) {
        output += line.text + "\n";
      }
    }
    if (output.find(needle) != std::string::npos ||
        std::chrono::steady_clock::now() >= deadline) {
      return output;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace contd::testing
