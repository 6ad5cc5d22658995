#include "modules/common/names.h"

#include <cctype>
#include <string>

namespace contd {
namespace {

bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool isSeparator(char c) { return c == '.' || c == '_' || c == '-'; }

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
      previous_was_separator = false;
      return invalidArgument(std::string(field) +
                             ": must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*, got '" +
                             std::string(value) + "'");
    }
  }
  if (previous_was_separator) {
    return invalidArgument(std::string(field) +
                           ": must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*, got '" +
                           std::string(value) + "'");
  }
  return okStatus();
}

}  // namespace contd
