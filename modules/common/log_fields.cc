#include "modules/common/log_fields.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <utility>

#include <nlohmann/json.hpp>

namespace contd::log {
namespace {

bool keyStart(char c) { return c >= 'a' && c <= 'z'; }
bool keyChar(char c) { return keyStart(c) || (c >= '0' && c <= '9') || c == '_'; }

// The value at text[at...]: quoted (escapes undone) or up to the next space. `at` moves past.
std::string readValue(std::string_view text, std::size_t& at) {
  std::string value;
  if (at < text.size() && text[at] == '"') {
    for (++at; at < text.size() && text[at] != '"'; ++at) {
      if (text[at] == '\\' && at + 1 < text.size() &&
          (text[at + 1] == '"' || text[at + 1] == '\\')) {
        ++at;
      }
      value += text[at];
    }
    if (at < text.size()) {
      ++at;  // the closing quote
    }
    return value;
  }
  const std::size_t end = std::min(text.find(' ', at), text.size());
  value = text.substr(at, end - at);
  at = end;
  return value;
}

std::string isoTime(std::chrono::system_clock::time_point time) {
  const auto since = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since - seconds);
  const std::time_t t = seconds.count();
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
  char fraction[16];
  std::snprintf(fraction, sizeof(fraction), ".%06lldZ", static_cast<long long>(micros.count()));
  return std::string(text, n) + fraction;
}

}  // namespace

std::vector<LogField> logFields(std::string_view message) {
  std::vector<LogField> fields;
  std::size_t at = 0;
  while (at < message.size()) {
    if (message[at] == ' ') {
      ++at;
      continue;
    }
    std::size_t key_end = at;
    while (key_end < message.size() && keyChar(message[key_end])) {
      ++key_end;
    }
    if (keyStart(message[at]) && key_end < message.size() && message[key_end] == '=') {
      std::string key(message.substr(at, key_end - at));
      at = key_end + 1;
      fields.push_back({std::move(key), readValue(message, at)});
      continue;
    }
    // Not a field: skip the word (a quoted string as a whole).
    if (message[at] == '"') {
      readValue(message, at);
    } else {
      at = std::min(message.find(' ', at), message.size());
    }
  }
  return fields;
}

std::string jsonLogLine(std::chrono::system_clock::time_point time, std::string_view level,
                        std::string_view logger, std::string_view message) {
  nlohmann::ordered_json line = {{"time", isoTime(time)},
                                 {"level", level},
                                 {"logger", logger},
                                 {"msg", message}};
  for (auto& field : logFields(message)) {
    if (!line.contains(field.key)) {
      line[field.key] = std::move(field.value);
    }
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> journalFields(int priority, std::string_view logger,
                                       std::string_view message) {
  std::vector<std::string> out = {"MESSAGE=" + std::string(message),
                                  "PRIORITY=" + std::to_string(priority),
                                  "SYSLOG_IDENTIFIER=contd",
                                  "CONTD_LOGGER=" + std::string(logger)};
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kNames = {{
      {"ns", "NAMESPACE"},
      {"namespace", "NAMESPACE"},
      {"id", "CONTAINER"},
      {"container", "CONTAINER"},
      {"op", "OP"},
      {"code", "CODE"},
  }};
  std::vector<std::string_view> sent;
  for (const auto& field : logFields(message)) {
    for (const auto& [key, name] : kNames) {
      if (field.key == key && !field.value.empty() &&
          std::find(sent.begin(), sent.end(), name) == sent.end()) {
        out.push_back(std::string(name) + "=" + field.value);
        sent.push_back(name);
      }
    }
  }
  return out;
}

}  // namespace contd::log
