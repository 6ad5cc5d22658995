#include "tests/bench/trace_log.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace contd::bench {
namespace {

// The value of `key`=... among the space-separated tokens of `message`.
std::optional<std::string_view> valueOf(std::string_view message, std::string_view key) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    const std::size_t end = std::min(message.find(' ', pos), message.size());
    const std::string_view token = message.substr(pos, end - pos);
    if (token.size() > key.size() && token.starts_with(key) && token[key.size()] == '=') {
      return token.substr(key.size() + 1);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

// The words of `message` before its first key=value token, joined by single spaces.
std::string leadingWords(std::string_view message) {
  std::string words;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const std::size_t end = std::min(message.find(' ', pos), message.size());
    const std::string_view token = message.substr(pos, end - pos);
    if (token.find('=') != std::string_view::npos) {
      break;
    }
    if (!token.empty()) {
      if (!words.empty()) {
        words += ' ';
      }
      words += token;
    }
    pos = end + 1;
  }
  return words;
}

std::optional<double> parseMs(std::string_view text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::vector<TimedLine> parseTimedLines(std::string_view log_text, std::string_view ns,
                                       std::string_view id_prefix) {
  std::vector<TimedLine> lines;
  std::size_t pos = 0;
  while (pos < log_text.size()) {
    const std::size_t end = std::min(log_text.find('\n', pos), log_text.size());
    const std::string_view line = log_text.substr(pos, end - pos);
    pos = end + 1;

    // "<time> <level> [<logger>] <message>"
    const std::size_t open = line.find(" [");
    const std::size_t close = open == std::string_view::npos ? open : line.find("] ", open);
    if (close == std::string_view::npos) {
      continue;
    }
    const std::string_view logger = line.substr(open + 2, close - open - 2);
    const std::string_view message = line.substr(close + 2);
    const auto line_ns = valueOf(message, "ns");
    const auto line_id = valueOf(message, "id");
    const auto ms_text = valueOf(message, "ms");
    if (!line_ns || *line_ns != ns || !line_id || !line_id->starts_with(id_prefix) || !ms_text) {
      continue;
    }
    const auto ms = parseMs(*ms_text);
    if (!ms) {
      continue;
    }
    std::string key;
    if (logger == "container") {
      key = leadingWords(message);
      if (auto step = valueOf(message, "step")) {
        key += ' ';
        key += *step;
      }
    } else if (logger == "containerd" || logger == "api") {
      auto op = valueOf(message, "op");
      if (!op) {
        continue;
      }
      key = std::string(*op);
      // code= comes last and its value may hold spaces ("not found").
      if (const auto at = message.find(" code="); logger == "containerd" && at != message.npos) {
        const std::string_view code = message.substr(at + 6);
        if (code != "ok") {
          key += " (" + std::string(code) + ")";
        }
      }
    } else {
      continue;
    }
    lines.push_back(TimedLine{std::string(*line_id), std::string(logger) + ": " + key, *ms});
  }
  return lines;
}

StepSamples parseStepTimings(std::string_view log_text, std::string_view ns,
                             std::string_view id_prefix) {
  StepSamples steps;
  for (auto& line : parseTimedLines(log_text, ns, id_prefix)) {
    steps[line.key].push_back(line.ms);
  }
  return steps;
}

}  // namespace contd::bench
