#include "modules/common/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "modules/common/log_fields.h"

namespace contd::log {
namespace {

constexpr std::array<const char*, 5> kLoggerNames = {"contd", "containerd", "container", "api",
                                                     "zbus"};

std::mutex& mu() {
  static std::mutex m;
  return m;
}
Format g_format = Format::kPlain;  // guarded by mu()
std::shared_ptr<spdlog::sinks::sink> g_sink;  // guarded by mu(); nullptr: stderr

std::shared_ptr<spdlog::sinks::sink> currentSink() {
  if (!g_sink) {
    g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  return g_sink;
}

// One JSON object per line (log_fields.h).
class JsonFormatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line = jsonLogLine(
        msg.time, std::string_view(level.data(), level.size()),
        std::string_view(msg.logger_name.data(), msg.logger_name.size()),
        std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// "%*": "<N>", the syslog priority of the line's level.
class PriorityFlag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
              spdlog::memory_buf_t& dest) override {
    const char text[4] = {'<', static_cast<char>('0' + syslogPriority(msg.level)), '>', '\0'};
    dest.append(text, text + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

std::unique_ptr<spdlog::formatter> makeFormatter(Format format) {
  if (format == Format::kJson) {
    return std::make_unique<JsonFormatter>();
  }
  if (format == Format::kJournal) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<PriorityFlag>('*').set_pattern("%*%l [%n] %v");
    return formatter;
  }
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ [%n] %v",
                                                     spdlog::pattern_time_type::utc);
}

std::shared_ptr<spdlog::logger> get(const char* name) {
  auto logger = spdlog::get(name);
  if (!logger) {
    init("info");
    logger = spdlog::get(name);
  }
  return logger;
}

}  // namespace

bool isValidLevel(std::string_view level) {
  return level == "trace" || level == "debug" || level == "info" || level == "warn" ||
         level == "error" || level == "critical" || level == "off";
}

int syslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;     // LOG_DEBUG
    case spdlog::level::info: return 6;      // LOG_INFO
    case spdlog::level::warn: return 4;      // LOG_WARNING
    case spdlog::level::err: return 3;       // LOG_ERR
    case spdlog::level::critical: return 2;  // LOG_CRIT
    default: return 6;
  }
}

void init(std::string_view level) {
  std::lock_guard lock(mu());
  auto sink = currentSink();
  for (const char* name : kLoggerNames) {
    auto logger = spdlog::get(name);
    if (!logger) {
      logger = std::make_shared<spdlog::logger>(name, sink);
      logger->set_formatter(makeFormatter(g_format));
      spdlog::register_logger(logger);
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
  }
}

void setFormat(Format format) {
  std::lock_guard lock(mu());
  g_format = format;
  for (const char* name : kLoggerNames) {
    if (auto logger = spdlog::get(name)) {
      logger->set_formatter(makeFormatter(format));
    }
  }
}

void setSink(std::shared_ptr<spdlog::sinks::sink> sink) {
  std::lock_guard lock(mu());
  g_sink = std::move(sink);
  auto current = currentSink();
  for (const char* name : kLoggerNames) {
    if (auto logger = spdlog::get(name)) {
      logger->sinks().assign({current});
      logger->set_formatter(makeFormatter(g_format));
    }
  }
}

Format formatForStderr() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) {
    return Format::kPlain;
  }
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  struct stat st {};
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2 || ::fstat(STDERR_FILENO, &st) != 0) {
    return Format::kPlain;
  }
  return st.st_dev == dev && st.st_ino == ino ? Format::kJournal : Format::kPlain;
}

std::shared_ptr<spdlog::logger> contd() { return get("contd"); }
std::shared_ptr<spdlog::logger> containerd() { return get("containerd"); }
std::shared_ptr<spdlog::logger> container() { return get("container"); }
std::shared_ptr<spdlog::logger> api() { return get("api"); }
std::shared_ptr<spdlog::logger> zbus() { return get("zbus"); }

}  // namespace contd::log
