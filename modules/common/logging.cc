#include "modules/common/logging.h"

#include <array>
#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>

namespace contd::log {
namespace {

constexpr std::array<const char*, 4> kLoggerNames = {"contd", "containerd", "container", "api"};

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

void init(std::string_view level) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  for (const char* name : kLoggerNames) {
    auto logger = spdlog::get(name);
    if (!logger) {
      logger = std::make_shared<spdlog::logger>(name, sink);
      logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ [%n] %v", spdlog::pattern_time_type::utc);
      spdlog::register_logger(logger);
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
  }
}

std::shared_ptr<spdlog::logger> contd() { return get("contd"); }
std::shared_ptr<spdlog::logger> containerd() { return get("containerd"); }
std::shared_ptr<spdlog::logger> container() { return get("container"); }
std::shared_ptr<spdlog::logger> api() { return get("api"); }

}  // namespace contd::log
