#pragma once
// contd's fixed set of named spdlog loggers. Write key=value pairs inside the format
// string so lines can be grepped: log::container()->info("started ns={} id={} pid={}", ...).

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace contd::log {

// Creates every logger once, writing to stderr at the given level
// ("trace", "debug", "info", "warn", "error"). Safe to call again to change the level.
void init(std::string_view level);
bool isValidLevel(std::string_view level);

std::shared_ptr<spdlog::logger> contd();       // daemon life cycle
std::shared_ptr<spdlog::logger> containerd();  // calls into containerd
std::shared_ptr<spdlog::logger> container();   // the container module: run, delete, ...
std::shared_ptr<spdlog::logger> api();         // gRPC API calls and peers

}  // namespace contd::log
