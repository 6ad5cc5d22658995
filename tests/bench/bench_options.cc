#include "tests/bench/bench_options.h"

#include <cstdio>
#include <vector>

#include "tests/bench/bench_util.h"

namespace contd::bench {

namespace {
constexpr int kExitUsage = 2;
}  // namespace

Status parseFlags(int argc, char** argv, bool* help, const FlagHandler& handle) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--help" || flag == "-h") {
      *help = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      return invalidArgument(flag.starts_with("--") ? std::string(flag) + ": needs a value"
                                                    : "unexpected argument '" +
                                                          std::string(flag) + "'");
    }
    CONTD_RETURN_IF_ERROR(handle(flag, args[++i]));
  }
  return okStatus();
}

Error unknownOption(std::string_view flag) {
  return invalidArgument("unknown option '" + std::string(flag) + "'");
}

Status setInt(std::string_view flag, std::string_view value, int& field, int min, int max) {
  auto number = parseNumber<int>(flag, value);
  if (!number) {
    return number.error();
  }
  if (*number < min || *number > max) {
    return invalidArgument(std::string(flag) +
                           (max == INT_MAX ? ": must be at least " + std::to_string(min)
                                           : ": must be from " + std::to_string(min) + " to " +
                                                 std::to_string(max)));
  }
  field = *number;
  return okStatus();
}

Result<bool> parseOnOff(std::string_view flag, std::string_view value) {
  if (value != "on" && value != "off") {
    return invalidArgument(std::string(flag) + " '" + std::string(value) +
                           "': expected on or off");
  }
  return value == "on";
}

ParseOutcome reportParse(std::string_view program, const Status& parsed, bool help,
                         const std::string& usage) {
  if (!parsed) {
    std::fprintf(stderr, "%.*s: %s\n%s", static_cast<int>(program.size()), program.data(),
                 parsed.error().message.c_str(), usage.c_str());
    return {false, kExitUsage};
  }
  if (help) {
    std::fputs(usage.c_str(), stdout);
    return {false, 0};
  }
  return {true, 0};
}

}  // namespace contd::bench
