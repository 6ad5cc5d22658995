#pragma once
// The command line of a benchmark: "--flag value" pairs and --help, parsed the same way by
// every program so that their errors and limits read alike.
//
// Threading: plain functions; no shared state.

#include <climits>
#include <functional>
#include <string>
#include <string_view>

#include "modules/common/result.h"

namespace contd::bench {

// Handles one "--flag value" pair; returns unknownOption(flag) for a flag it does not know.
using FlagHandler = std::function<Status(std::string_view flag, std::string_view value)>;

// Walks argv[1..] as "--flag value" pairs; "--help" and "-h" (which take no value) set
// *help. Stops at the first error: a flag without a value, an unknown flag, a bad value.
Status parseFlags(int argc, char** argv, bool* help, const FlagHandler& handle);

// "unknown option '--x'".
Error unknownOption(std::string_view flag);

// A whole number from `min` to `max` into `field`: "--count: must be at least 1" (when max
// is INT_MAX) or "--rounds: must be from 1 to 1000".
Status setInt(std::string_view flag, std::string_view value, int& field, int min,
              int max = INT_MAX);

// "on" or "off": "--trace 'x': expected on or off".
Result<bool> parseOnOff(std::string_view flag, std::string_view value);

// The result of parsing a command line, for main: go on, or exit with `exit_code`.
struct ParseOutcome {
  bool proceed = false;
  int exit_code = 0;
};

// Reports a parse result the way every benchmark does: a usage error to stderr with the
// usage text (exit 2), --help to stdout (exit 0), else proceed.
ParseOutcome reportParse(std::string_view program, const Status& parsed, bool help,
                         const std::string& usage);

}  // namespace contd::bench
