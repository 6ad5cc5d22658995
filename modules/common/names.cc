#include "modules/common/names.h"

#include <cctype>
#include <string>

#include "modules/common/printable.h"

namespace contd {
namespace {

bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool isSeparator(char c) { return c == '.' || c == '_' || c == '-'; }

// The value is the caller's: escaped, so that no byte of it reaches a log line raw.
Status mismatch(std::string_view field, std::string_view value) {
  return invalidArgument(std::string(field) + ": must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*, got " +
                         inQuotes(value, kMaxNameLength));
}

}  // namespace

Status validateName(std::string_view field, std::string_view value) {
  if (value.empty()) {
    return invalidArgument(std::string(field) + ": must not be empty");
  }
  if (value.size() > kMaxNameLength) {
    return invalidArgument(std::string(field) + ": longer than " +
                           std::to_string(kMaxNameLength) + " characters");
  }
  // Alphanumeric runs joined by single separators: no separator first, last or doubled.
  bool previous_was_separator = true;
  for (char c : value) {
    if (isAlnum(c)) {
      previous_was_separator = false;
    } else if (isSeparator(c) && !previous_was_separator) {
      previous_was_separator = true;
    } else {
      return mismatch(field, value);
    }
  }
  if (previous_was_separator) {
    return mismatch(field, value);
  }
  return okStatus();
}

}  // namespace contd
