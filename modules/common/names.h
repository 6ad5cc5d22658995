#pragma once
// Identifier rules. Namespace and container names become path components (log files,
// cgroups), so they follow containerd's identifier rule and nothing else passes.

#include <string_view>

#include "modules/common/result.h"

namespace contd {

inline constexpr std::size_t kMaxNameLength = 64;

// OK when `value` matches ^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$ and is at most 64 chars.
// The error names `field`: "name: must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*, got 'a..b'".
Status validateName(std::string_view field, std::string_view value);

}  // namespace contd
