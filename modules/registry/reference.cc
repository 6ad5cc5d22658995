// parseReference: image references split into host, repository, tag and digest, checked
// against the grammar of the distribution spec and normalised the way docker does it.

#include "modules/registry/reference.h"

#include <algorithm>
#include <cctype>

#include "modules/common/digest.h"

namespace contd::registry {
namespace {

constexpr char kDockerHub[] = "docker.io";
constexpr char kDockerHubEndpoint[] = "registry-1.docker.io";
constexpr std::size_t kMaxNameLength = 255;
constexpr std::size_t kMaxTagLength = 128;

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The text being parsed and the request field it came in ("ref", "name").
struct Input {
  std::string_view field;
  std::string_view text;
};

Error refError(const Input& input, std::string_view problem) {
  return invalidArgument(std::string(input.field) + " '" + std::string(input.text) + "': " +
                         std::string(problem));
}

// A path component: lower-case alphanumeric runs joined by one separator, where a separator
// is '.', '_', "__" or a run of '-'.
bool isPathComponent(std::string_view part) {
  if (part.empty() || !isLowerAlnum(part.front()) || !isLowerAlnum(part.back())) {
    return false;
  }
  for (std::size_t i = 0; i < part.size();) {
    if (isLowerAlnum(part[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < part.size() && !isLowerAlnum(part[end])) {
      ++end;
    }
    const std::string_view separator = part.substr(i, end - i);
    const bool dashes = separator.find_first_not_of('-') == std::string_view::npos;
    if (!(separator == "." || separator == "_" || separator == "__" || dashes)) {
      return false;
    }
    i = end;
  }
  return true;
}

// A host: DNS labels joined by '.', or a bracketed IPv6 address, then an optional :port.
bool isHost(std::string_view host) {
  std::string_view name = host;
  if (const auto colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    const std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    name = host.substr(0, colon);
  }
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    return name.substr(1, name.size() - 2).find_first_not_of("0123456789abcdefABCDEF:.") ==
           std::string_view::npos;
  }
  if (name.empty()) {
    return false;
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-') {
        return false;
      }
    }
    start = dot + 1;
  }
  return true;
}

bool isTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength || !isWordChar(tag.front())) {
    return false;
  }
  for (const char c : tag) {
    if (!isWordChar(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

// docker's rule: the first component is a host when it looks like one (a '.' or a ':') or is
// "localhost"; otherwise the name is on Docker Hub.
bool looksLikeHost(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost";
}

Status checkRepository(const Input& input, std::string_view repository) {
  for (const char c : repository) {
    if (c >= 'A' && c <= 'Z') {
      return refError(input, "repository must be lower case");
    }
  }
  std::size_t start = 0;
  while (start <= repository.size()) {
    const std::size_t slash = std::min(repository.find('/', start), repository.size());
    const std::string_view part = repository.substr(start, slash - start);
    if (part.empty()) {
      return refError(input, "empty path component");
    }
    if (!isPathComponent(part)) {
      return refError(input, "path component '" + std::string(part) +
                                "' must be lower-case letters and digits joined by '.', '_', "
                                "'__' or '-'");
    }
    start = slash + 1;
  }
  return okStatus();
}

}  // namespace

std::string Reference::name() const {
  std::string text = host + "/" + repository;
  if (!tag.empty()) {
    text += ":" + tag;
  }
  if (!digest.empty()) {
    text += "@" + digest;
  }
  return text;
}

std::string Reference::manifestReference() const { return digest.empty() ? tag : digest; }

std::string Reference::endpointHost() const {
  return host == kDockerHub ? std::string(kDockerHubEndpoint) : host;
}

Result<Reference> parseReference(std::string_view text, std::string_view field) {
  if (text.empty()) {
    return invalidArgument(std::string(field) + ": must not be empty");
  }
  const Input input{field, text};
  Reference ref;
  std::string_view rest = text;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!isSha256Digest(ref.digest)) {
      return refError(input, "digest must be sha256: and 64 lower-case hex digits");
    }
  }
  // A ':' after the last '/' starts the tag; one before it belongs to the host's port.
  const auto last_slash = rest.rfind('/');
  if (const auto colon = rest.rfind(':');
      colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!isTag(ref.tag)) {
      return refError(input, "tag '" + ref.tag +
                                "' must be letters, digits, '_', '.' or '-' (at most 128, "
                                "not starting with '.' or '-')");
    }
  }
  if (rest.empty()) {
    return refError(input, "no repository");
  }
  if (rest.size() > kMaxNameLength) {
    return refError(input, "name longer than 255 characters");
  }
  const auto first_slash = rest.find('/');
  if (first_slash != std::string_view::npos && looksLikeHost(rest.substr(0, first_slash))) {
    ref.host = std::string(rest.substr(0, first_slash));
    rest = rest.substr(first_slash + 1);
    if (!isHost(ref.host)) {
      return refError(input, "host '" + ref.host + "' is not a host name with optional :port");
    }
  } else {
    ref.host = kDockerHub;
  }
  if (ref.host == "index.docker.io") {
    ref.host = kDockerHub;  // docker's legacy name for the hub
  }
  CONTD_RETURN_IF_ERROR(checkRepository(input, rest));
  ref.repository = std::string(rest);
  if (ref.host == kDockerHub && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;  // official images
  }
  if (ref.tag.empty() && ref.digest.empty()) {
    ref.tag = "latest";
  }
  return ref;
}

}  // namespace contd::registry
