#pragma once
// The bridge's logger, "zbus": contd's own sink and level (taken from the "contd" logger
// when first used, so call it after contd::log::init). Any thread.

#include <memory>

#include <spdlog/spdlog.h>

#include "modules/common/logging.h"

namespace contd::zbus {

inline std::shared_ptr<spdlog::logger> zbusLog() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto existing = spdlog::get("zbus");
    return existing ? existing : std::shared_ptr<spdlog::logger>(log::contd()->clone("zbus"));
  }();
  return logger;
}

}  // namespace contd::zbus
