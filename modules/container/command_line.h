#pragma once
// Turning an entrypoint string into argv and back, the way a POSIX shell splits words but
// with no expansion of any kind: no variables, globs, tildes, command substitution,
// comments or operators. Pure functions; any thread.

#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::container {

// Splits `line` into words:
// - unquoted whitespace (space, tab, newline, CR, VT, FF) separates words;
// - '...' keeps everything literally up to the next single quote;
// - "..." keeps everything literally except that a backslash escapes `"`, `\`, `$` and
//   backtick; before any other character the backslash stays;
// - outside quotes a backslash makes the next character literal;
// - a backslash before a newline (quoted by "..." or not) is a line continuation: both go.
// Quotes join with adjacent text (a"b"'c' is one word abc), and '' or "" is an empty word.
// Errors (kInvalidArgument, message starting "entrypoint: "): an unterminated quote, a
// trailing backslash, and a line with no words at all.
Result<std::vector<std::string>> splitCommandLine(std::string_view line);

// The inverse of splitCommandLine: words made only of safe characters stay as they are,
// any other word is single-quoted. For every non-empty `words`,
// splitCommandLine(joinCommandLine(words)) == words. An empty vector gives "".
std::string joinCommandLine(const std::vector<std::string>& words);

}  // namespace contd::container
