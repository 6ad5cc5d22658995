#include "modules/container/command_line.h"

#include <cctype>

namespace contd::container {
namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Characters no POSIX shell gives a meaning to, so a word made of them needs no quotes.
// Anything else is quoted, even where this splitter would not care (`#`, `~`, `*`), so that
// the joined line also means the same thing when pasted into a real shell.
bool isSafe(char c) {
  if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
    return true;
  }
  switch (c) {
    case '_':
    case '-':
    case '+':
    case '=':
    case ':':
    case ',':
    case '.':
    case '/':
    case '@':
    case '%': return true;
    default: return false;
  }
}

// Inside double quotes POSIX keeps the backslash except before these.
bool escapableInDoubleQuotes(char c) { return c == '"' || c == '\\' || c == '$' || c == '`'; }

Error splitError(std::string what, std::size_t position) {
  return invalidArgument("entrypoint: " + what + " at offset " + std::to_string(position));
}

}  // namespace

Result<std::vector<std::string>> splitCommandLine(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  // A word exists once any part of it was seen, even an empty quoted one ('' is a word).
  bool in_word = false;
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (isSpace(c)) {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) {
        return splitError("trailing backslash", i);
      }
      if (line[i + 1] != '\n') {  // backslash-newline joins lines and is not a word
        word.push_back(line[i + 1]);
        in_word = true;
      }
      i += 2;
    } else if (c == '\'') {
      const std::size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return splitError("unterminated single quote", i);
      }
      word.append(line.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      const std::size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        const char q = line[i];
        if (q == '"') {
          closed = true;
          ++i;
          break;
        }
        if (q == '\\' && i + 1 < line.size() &&
            (escapableInDoubleQuotes(line[i + 1]) || line[i + 1] == '\n')) {
          if (line[i + 1] != '\n') {
            word.push_back(line[i + 1]);
          }
          i += 2;
          continue;
        }
        word.push_back(q);
        ++i;
      }
      if (!closed) {
        return splitError("unterminated double quote", open);
      }
      in_word = true;
    } else {
      word.push_back(c);
      in_word = true;
      ++i;
    }
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  if (words.empty()) {
    return invalidArgument("entrypoint: no command given");
  }
  return words;
}

std::string joinCommandLine(const std::vector<std::string>& words) {
  std::string line;
  bool first = true;
  for (const auto& word : words) {
    if (!first) {
      line.push_back(' ');
    }
    first = false;
    bool safe = !word.empty();
    for (char c : word) {
      safe = safe && isSafe(c);
    }
    if (safe) {
      line += word;
      continue;
    }
    // Inside single quotes nothing is special but the quote itself, which has to leave the
    // quotes to be escaped: it's -> 'it'\''s'.
    line.push_back('\'');
    for (char c : word) {
      if (c == '\'') {
        line += "'\\''";
      } else {
        line.push_back(c);
      }
    }
    line.push_back('\'');
  }
  return line;
}

}  // namespace contd::container
