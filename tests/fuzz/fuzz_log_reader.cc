// Container logs read back (modules/container/log_reader.cc): the CRI record parser, the
// line assembler fed in two pieces (which must give what one piece gives: the follower
// feeds a growing file piece by piece), and readLog over a rotated file and the current one.
// The first input byte picks the split point; the rest is the log.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "modules/container/log_reader.h"
#include "tests/fuzz/fuzz_file.h"

namespace {

using contd::container::LogLine;
using contd::container::LogLineAssembler;

std::vector<LogLine> assemble(std::string_view first, std::string_view second) {
  LogLineAssembler assembler;
  std::vector<LogLine> lines;
  assembler.feed(first, lines);
  assembler.feed(second, lines);
  assembler.finish(lines);
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace contd::container;
  if (size == 0) {
    return 0;
  }
  std::string_view log(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t split = log.empty() ? 0 : data[0] % (log.size() + 1);

  for (std::size_t start = 0; start < log.size();) {
    std::size_t end = log.find('\n', start);
    end = end == std::string_view::npos ? log.size() : end;
    (void)parseCriRecord(log.substr(start, end - start));
    start = end + 1;
  }
  if (assemble(log, {}) != assemble(log.substr(0, split), log.substr(split))) {
    __builtin_trap();
  }

  contd::fuzz::writeScratchFile("c.log.1", log.substr(0, split));
  auto current = contd::fuzz::writeScratchFile("c.log", log.substr(split));
  auto all = readLog(current, LogQuery{});
  auto tail = readLog(current, LogQuery{.tail = 2, .since = 1});
  (void)all;
  (void)tail;
  return 0;
}
