// parseChallenges: a small RFC 7235 reader for WWW-Authenticate. The header is a comma
// separated list in which a comma both separates the parameters of one challenge and starts
// the next challenge; a name followed by '=' is a parameter, any other token a new scheme.

#include "modules/registry/auth_challenge.h"

#include <cctype>
#include <optional>

namespace contd::registry {
namespace {

// RFC 7230's tchar.
bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

class Reader {
public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }
  std::size_t position() const { return pos_; }
  void rewind(std::size_t pos) { pos_ = pos; }
  void advance() { ++pos_; }

  void skipSpaces() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t')) {
      ++pos_;
    }
  }
  void skipSpacesAndCommas() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == ',')) {
      ++pos_;
    }
  }
  // Skips what cannot be read up to the next comma (or the end).
  void skipToComma() {
    while (!atEnd() && peek() != ',') {
      ++pos_;
    }
  }

  std::string_view token() {
    const std::size_t start = pos_;
    while (!atEnd() && isTokenChar(peek())) {
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  // A quoted-string with \-escapes, the reader on its opening quote. Nothing when the
  // closing quote is missing.
  std::optional<std::string> quoted() {
    std::string value;
    for (++pos_; !atEnd(); ++pos_) {
      const char c = peek();
      if (c == '"') {
        ++pos_;
        return value;
      }
      if (c == '\\' && pos_ + 1 < text_.size()) {
        ++pos_;
      }
      value += text_[pos_];
    }
    return std::nullopt;
  }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Reads the parameters of one challenge, the reader after its scheme. Stops before the
// scheme of the next challenge.
void readParams(Reader& reader, Challenge& challenge) {
  while (true) {
    const std::size_t start = reader.position();
    reader.skipSpacesAndCommas();
    if (reader.atEnd()) {
      return;
    }
    const std::string_view name = reader.token();
    if (name.empty()) {
      reader.advance();  // not a token: garbage up to the next comma
      reader.skipToComma();
      continue;
    }
    reader.skipSpaces();
    if (reader.peek() != '=') {
      reader.rewind(start);  // a token alone: the next challenge's scheme
      return;
    }
    reader.advance();
    reader.skipSpaces();
    std::optional<std::string> value;
    if (reader.peek() == '"') {
      value = reader.quoted();
      if (!value) {
        return;  // unterminated: nothing after it can be trusted
      }
    } else if (const std::string_view bare = reader.token(); !bare.empty()) {
      value = std::string(bare);
    }
    reader.skipSpaces();
    if (!value || (!reader.atEnd() && reader.peek() != ',')) {
      reader.skipToComma();  // a token68 ("Basic dXNlcg==") or junk after the value
      continue;
    }
    challenge.params.emplace(lower(name), std::move(*value));
  }
}

}  // namespace

std::vector<Challenge> parseChallenges(std::string_view header) {
  std::vector<Challenge> challenges;
  Reader reader(header);
  while (true) {
    reader.skipSpacesAndCommas();
    if (reader.atEnd()) {
      break;
    }
    const std::string_view scheme = reader.token();
    reader.skipSpaces();
    if (scheme.empty() || reader.peek() == '=') {
      reader.advance();  // not a scheme (or a parameter without one): skip it
      reader.skipToComma();
      continue;
    }
    Challenge challenge;
    challenge.scheme = lower(scheme);
    readParams(reader, challenge);
    challenges.push_back(std::move(challenge));
  }
  return challenges;
}

}  // namespace contd::registry
