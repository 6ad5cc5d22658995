#include "shim/options.h"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace contd::shim {
namespace {

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

Error bad(std::string message) { return Error{Code::kInvalidArgument, std::move(message)}; }

Result<std::uint64_t> parseNumber(std::string_view key, std::string_view value,
                                  std::uint64_t max) {
  std::uint64_t n = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (value.empty() || ptr != end || ec != std::errc() || n > max) {
    return bad(std::string(key) + ": expected a decimal number up to " + std::to_string(max) +
               ", got '" + std::string(value) + "'");
  }
  return n;
}

bool isCleanAbsolutePath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      slash = path.size();
    }
    const std::string_view part = path.substr(start, slash - start);
    if (part == "." || part == "..") {
      return false;
    }
    start = slash + 1;
  }
  return path.find('\0') == std::string_view::npos;
}

}  // namespace

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return false;
  }
  bool after_separator = true;  // the first character must be alphanumeric
  for (const char c : name) {
    if (isAlnum(c)) {
      after_separator = false;
    } else if ((c == '.' || c == '_' || c == '-') && !after_separator) {
      after_separator = true;
    } else {
      return false;
    }
  }
  return !after_separator;
}

namespace {

// Sets the option `key` (already known to be one of the five) from `value`.
Status setOption(std::string_view key, std::string_view value, Options& options) {
  if (key == "log_root") {
    if (!isCleanAbsolutePath(value)) {
      return bad("log_root: expected an absolute path without '.' or '..', got '" +
                 std::string(value) + "'");
    }
    options.log_root = std::string(value);
    while (options.log_root.size() > 1 && options.log_root.back() == '/') {
      options.log_root.pop_back();
    }
  } else if (key == "policy") {
    if (value == "block") {
      options.policy = Policy::kBlock;
    } else if (value == "drop") {
      options.policy = Policy::kDrop;
    } else {
      return bad("policy: expected 'block' or 'drop', got '" + std::string(value) + "'");
    }
  } else {
    auto n = parseNumber(key, value, key == "max_files" ? kMaxMaxFiles : INT64_MAX);
    if (!n) {
      return n.error();
    }
    if (key == "max_size") {
      options.max_size = *n;
    } else if (key == "rate") {
      if (*n == 0) {
        return bad("rate: must be at least 1 byte/s");
      }
      options.rate = *n;
    } else {
      options.max_files = static_cast<unsigned>(*n);
    }
  }
  return okStatus();
}

// The container's ids come from the runc shim's environment and name files: same rule as
// contd's names.
Status checkIds(std::string_view ns, std::string_view id) {
  if (!isValidName(ns)) {
    return bad("CONTAINER_NAMESPACE: must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)* (at most 64), "
               "got '" + std::string(ns.substr(0, 80)) + "'");
  }
  if (!isValidName(id)) {
    return bad("CONTAINER_ID: must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)* (at most 64), got '" +
               std::string(id.substr(0, 80)) + "'");
  }
  return okStatus();
}

}  // namespace

Result<Options> parseOptions(const std::vector<std::string_view>& args, const char* ns,
                             const char* id) {
  Options options;
  if (args.size() % 2 != 0) {
    return bad("expected key/value pairs, got " + std::to_string(args.size()) + " arguments");
  }
  static constexpr std::string_view kKnown[] = {"log_root", "max_size", "max_files", "policy",
                                                "rate"};
  bool seen[std::size(kKnown)] = {};
  for (std::size_t i = 0; i < args.size(); i += 2) {
    const std::string_view key = args[i];
    const auto* known = std::find(std::begin(kKnown), std::end(kKnown), key);
    if (known == std::end(kKnown)) {
      return bad("unknown argument '" + std::string(key) +
                 "' (known: log_root, max_size, max_files, policy, rate)");
    }
    bool& was_seen = seen[known - std::begin(kKnown)];
    if (was_seen) {
      return bad(std::string(key) + ": given twice");
    }
    was_seen = true;
    CONTD_RETURN_IF_ERROR(setOption(key, args[i + 1], options));
  }
  if (!seen[0]) {
    return bad("log_root: missing (binary://<path>?log_root=/abs/dir)");
  }
  const std::string_view ns_view = ns == nullptr ? std::string_view() : ns;
  const std::string_view id_view = id == nullptr ? std::string_view() : id;
  CONTD_RETURN_IF_ERROR(checkIds(ns_view, id_view));
  options.ns = std::string(ns_view);
  options.id = std::string(id_view);
  return options;
}

}  // namespace contd::shim
