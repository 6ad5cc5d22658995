#include "modules/container/health_state.h"

namespace contd::container {
namespace {

bool isContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the valid UTF-8 sequence at the start of `text`, or 0 when there is none
// (overlong forms, surrogates and code points above U+10FFFF are not valid).
std::size_t sequenceLength(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead < 0x80) {
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    min_second = lead == 0xE0 ? 0xA0 : 0x80;
    max_second = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    min_second = lead == 0xF0 ? 0x90 : 0x80;
    max_second = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < min_second || byte(1) > max_second) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if (!isContinuation(byte(i))) {
      return 0;
    }
  }
  return length;
}

}  // namespace

bool recordHealthResult(HealthState& state, HealthResult result, std::uint32_t retries,
                        bool in_start_period) {
  const HealthStatus before = state.status;
  const bool passed = result.exit_code == 0;
  result.output = healthOutput(result.output);
  state.log.push_back(std::move(result));
  if (state.log.size() > kHealthLogSize) {
    state.log.erase(state.log.begin(),
                    state.log.end() - static_cast<std::ptrdiff_t>(kHealthLogSize));
  }
  if (passed) {
    state.failing_streak = 0;
    state.status = HealthStatus::kHealthy;
  } else if (!(in_start_period && state.status == HealthStatus::kStarting)) {
    state.failing_streak += 1;
    if (state.failing_streak >= retries) {
      state.status = HealthStatus::kUnhealthy;
    }
  }
  return state.status != before && state.status != HealthStatus::kStarting;
}

void restartHealth(HealthState& state) {
  state.status = HealthStatus::kStarting;
  state.failing_streak = 0;
}

std::string healthOutput(std::string_view output) {
  if (output.size() > kHealthOutputLimit) {
    output.remove_prefix(output.size() - kHealthOutputLimit);
    while (!output.empty() && isContinuation(static_cast<unsigned char>(output.front()))) {
      output.remove_prefix(1);
    }
  }
  std::string text;
  text.reserve(output.size());
  while (!output.empty()) {
    const std::size_t length = sequenceLength(output);
    if (length == 0) {
      text += "\xEF\xBF\xBD";  // U+FFFD
      output.remove_prefix(1);
    } else {
      text.append(output.substr(0, length));
      output.remove_prefix(length);
    }
  }
  return text;
}

}  // namespace contd::container
