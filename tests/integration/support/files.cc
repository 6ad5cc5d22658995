#include "tests/integration/support/files.h"

#include <fstream>
#include <sstream>
#include <thread>

namespace contd::testing {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string waitForFile(const std::filesystem::path& path,
                        const std::function<bool(const std::string&)>& done,
                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string text;
  while (std::chrono::steady_clock::now() < deadline) {
    text = readFile(path);
    if (done(text)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return text;
}

}  // namespace contd::testing
