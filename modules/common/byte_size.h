#pragma once
// The one reader of byte counts that people write: contctl's --memory and the daemon's
// size config keys (log_max_size, log_rate_limit). Pure; any thread.

#include <cstdint>
#include <string_view>

#include "modules/common/result.h"

namespace contd {

// A whole number of bytes, or one with a binary suffix, either case: 512K, 64M, 2G, 1T
// (powers of 1024). Errors (kInvalidArgument, without the value or the field: the caller
// names them): "expected a byte count such as 67108864, 512M or 2G".
Result<std::uint64_t> parseByteSize(std::string_view text);

}  // namespace contd
