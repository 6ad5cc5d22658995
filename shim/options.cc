#include "shim/options.h"

#include <charconv>

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

Result<Options> parseOptions(const std::vector<std::string_view>& args, const char* ns,
                             const char* id) {
  Options options;
  if (args.size() % 2 != 0) {
    return bad("expected key/value pairs, got " + std::to_string(args.size()) + " arguments");
  }
  bool seen_root = false;
  bool seen_size = false;
  bool seen_files = false;
  bool seen_policy = false;
  bool seen_rate = false;
  for (std::size_t i = 0; i < args.size(); i += 2) {
    const std::string_view key = args[i];
    const std::string_view value = args[i + 1];
    bool* seen = key == "log_root" ? &seen_root
                 : key == "max_size" ? &seen_size
                 : key == "max_files" ? &seen_files
                 : key == "policy" ? &seen_policy
                 : key == "rate" ? &seen_rate
                                      : nullptr;
    if (seen == nullptr) {
      return bad("unknown argument '" + std::string(key) +
                 "' (known: log_root, max_size, max_files, policy, rate)");
    }
    if (*seen) {
      return bad(std::string(key) + ": given twice");
    }
    *seen = true;
    if (key == "log_root") {
      if (!isCleanAbsolutePath(value)) {
        return bad("log_root: expected an absolute path without '.' or '..', got '" +
                   std::string(value) + "'");
      }
      options.log_root = std::string(value);
      while (options.log_root.size() > 1 && options.log_root.back() == '/') {
        options.log_root.pop_back();
      }
    } else if (key == "max_size") {
      auto n = parseNumber(key, value, INT64_MAX);
      if (!n) {
        return n.error();
      }
      options.max_size = *n;
    } else if (key == "policy") {
      if (value == "block") {
        options.policy = Policy::kBlock;
      } else if (value == "drop") {
        options.policy = Policy::kDrop;
      } else {
        return bad("policy: expected 'block' or 'drop', got '" + std::string(value) + "'");
      }
    } else if (key == "rate") {
      auto n = parseNumber(key, value, INT64_MAX);
      if (!n) {
        return n.error();
      }
      if (*n == 0) {
        return bad("rate: must be at least 1 byte/s");
      }
      options.rate = *n;
    } else {
      auto n = parseNumber(key, value, kMaxMaxFiles);
      if (!n) {
        return n.error();
      }
      options.max_files = static_cast<unsigned>(*n);
    }
  }
  if (!seen_root) {
    return bad("log_root: missing (binary://<path>?log_root=/abs/dir)");
  }
  const std::string_view ns_view = ns == nullptr ? std::string_view() : ns;
  const std::string_view id_view = id == nullptr ? std::string_view() : id;
  if (!isValidName(ns_view)) {
    return bad("CONTAINER_NAMESPACE: must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)* (at most 64), "
               "got '" + std::string(ns_view.substr(0, 80)) + "'");
  }
  if (!isValidName(id_view)) {
    return bad("CONTAINER_ID: must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)* (at most 64), got '" +
               std::string(id_view.substr(0, 80)) + "'");
  }
  options.ns = std::string(ns_view);
  options.id = std::string(id_view);
  return options;
}

}  // namespace contd::shim
