#include "modules/seccomp/profile.h"

#include <seccomp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace contd::seccomp {
namespace {

using nlohmann::json;

// What runc 1.1 accepts (libcontainer/seccomp/config.go).
constexpr std::array<std::string_view, 9> kActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
constexpr std::array<std::string_view, 7> kOperators = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
constexpr std::array<std::string_view, 3> kFlags = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
constexpr std::string_view kArchPrefix = "SCMP_ARCH_";
constexpr unsigned kMaxSyscallArgs = 6;

template <std::size_t N>
bool oneOf(const std::array<std::string_view, N>& allowed, const std::string& value) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

Error at(const std::string& pointer, const std::string& what) {
  return invalidArgument(pointer + ": " + what);
}

Status checkKeys(const json& object, const std::string& pointer,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return at(pointer + "/" + key, "unknown key");
    }
  }
  return okStatus();
}

Status checkString(const json& object, const std::string& pointer, const char* key,
                   bool required) {
  auto it = object.find(key);
  if (it == object.end()) {
    return required ? Status(at(pointer + "/" + key, "required")) : okStatus();
  }
  if (!it->is_string()) {
    return at(pointer + "/" + key, "expected string");
  }
  return okStatus();
}

Status checkUnsigned(const json& object, const std::string& pointer, const char* key) {
  auto it = object.find(key);
  if (it != object.end() && !it->is_number_unsigned()) {
    return at(pointer + "/" + key, "expected unsigned integer");
  }
  return okStatus();
}

Status checkStringArray(const json& value, const std::string& pointer) {
  if (!value.is_array()) {
    return at(pointer, "expected array of strings");
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      return at(pointer + "/" + std::to_string(i), "expected string");
    }
  }
  return okStatus();
}

Status checkAction(const json& object, const std::string& pointer, const char* key) {
  CONTD_RETURN_IF_ERROR(checkString(object, pointer, key, true));
  const auto action = object.at(key).get<std::string>();
  if (!oneOf(kActions, action)) {
    return at(pointer + "/" + key, "unknown action '" + action + "'");
  }
  return okStatus();
}

Status checkArchitectures(const json& profile) {
  auto it = profile.find("architectures");
  if (it == profile.end()) {
    return okStatus();
  }
  CONTD_RETURN_IF_ERROR(checkStringArray(*it, "/architectures"));
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto name = (*it)[i].get<std::string>();
    std::string arch = name.starts_with(kArchPrefix) ? name.substr(kArchPrefix.size()) : "";
    std::transform(arch.begin(), arch.end(), arch.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (arch.empty() || ::seccomp_arch_resolve_name(arch.c_str()) == 0) {
      return at("/architectures/" + std::to_string(i), "unknown architecture '" + name + "'");
    }
  }
  return okStatus();
}

// The architectures of the profile that the native one can run: a filter for arm on an
// x86_64 host could never match, so runc is given only the native family.
void keepRunnableArchitectures(json& profile) {
  auto it = profile.find("architectures");
  if (it == profile.end()) {
    return;
  }
  static const std::vector<std::vector<std::string>> kFamilies = {
      {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"},
      {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"},
  };
  std::string native = "SCMP_ARCH_" + nativeArchitecture();
  std::transform(native.begin(), native.end(), native.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const auto& family : kFamilies) {
    if (std::find(family.begin(), family.end(), native) == family.end()) {
      continue;
    }
    json kept = json::array();
    for (const auto& arch : *it) {
      if (std::find(family.begin(), family.end(), arch.get<std::string>()) != family.end()) {
        kept.push_back(arch);
      }
    }
    *it = std::move(kept);
  }
}

Status checkFlags(const json& profile) {
  auto it = profile.find("flags");
  if (it == profile.end()) {
    return okStatus();
  }
  CONTD_RETURN_IF_ERROR(checkStringArray(*it, "/flags"));
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (!oneOf(kFlags, (*it)[i].get<std::string>())) {
      return at("/flags/" + std::to_string(i),
                "unknown flag '" + (*it)[i].get<std::string>() + "'");
    }
  }
  return okStatus();
}

Status checkArgs(const json& rule, const std::string& pointer) {
  auto it = rule.find("args");
  if (it == rule.end() || it->is_null()) {
    return okStatus();
  }
  if (!it->is_array()) {
    return at(pointer + "/args", "expected array of objects");
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const std::string arg_pointer = pointer + "/args/" + std::to_string(i);
    const json& arg = (*it)[i];
    if (!arg.is_object()) {
      return at(arg_pointer, "expected object");
    }
    CONTD_RETURN_IF_ERROR(checkKeys(arg, arg_pointer, {"index", "value", "valueTwo", "op"}));
    if (!arg.contains("index") || !arg["index"].is_number_unsigned() ||
        arg["index"].get<std::uint64_t>() >= kMaxSyscallArgs) {
      return at(arg_pointer + "/index", "expected an integer from 0 to 5");
    }
    if (!arg.contains("value")) {
      return at(arg_pointer + "/value", "required");
    }
    CONTD_RETURN_IF_ERROR(checkUnsigned(arg, arg_pointer, "value"));
    CONTD_RETURN_IF_ERROR(checkUnsigned(arg, arg_pointer, "valueTwo"));
    CONTD_RETURN_IF_ERROR(checkString(arg, arg_pointer, "op", true));
    if (!oneOf(kOperators, arg["op"].get<std::string>())) {
      return at(arg_pointer + "/op", "unknown operator '" + arg["op"].get<std::string>() + "'");
    }
  }
  return okStatus();
}

Status checkCapsCondition(const json& rule, const std::string& pointer, const char* key) {
  auto it = rule.find(key);
  if (it == rule.end()) {
    return okStatus();
  }
  const std::string cond_pointer = pointer + "/" + key;
  if (!it->is_object()) {
    return at(cond_pointer, "expected object");
  }
  CONTD_RETURN_IF_ERROR(checkKeys(*it, cond_pointer, {"caps"}));
  auto caps = it->find("caps");
  if (caps == it->end()) {
    return okStatus();
  }
  CONTD_RETURN_IF_ERROR(checkStringArray(*caps, cond_pointer + "/caps"));
  for (std::size_t i = 0; i < caps->size(); ++i) {
    if (!(*caps)[i].get<std::string>().starts_with("CAP_")) {
      return at(cond_pointer + "/caps/" + std::to_string(i), "expected a CAP_ name");
    }
  }
  return okStatus();
}

// Checks one rule and drops unknown names from it; false when no name is left.
Result<bool> checkRule(json& rule, const std::string& pointer, Profile& out,
                       std::set<std::string>& reported) {
  if (!rule.is_object()) {
    return at(pointer, "expected object");
  }
  CONTD_RETURN_IF_ERROR(checkKeys(
      rule, pointer, {"names", "action", "errnoRet", "args", "comment", "includes", "excludes"}));
  CONTD_RETURN_IF_ERROR(checkString(rule, pointer, "comment", false));
  CONTD_RETURN_IF_ERROR(checkAction(rule, pointer, "action"));
  CONTD_RETURN_IF_ERROR(checkUnsigned(rule, pointer, "errnoRet"));
  CONTD_RETURN_IF_ERROR(checkArgs(rule, pointer));
  CONTD_RETURN_IF_ERROR(checkCapsCondition(rule, pointer, "includes"));
  CONTD_RETURN_IF_ERROR(checkCapsCondition(rule, pointer, "excludes"));
  auto names = rule.find("names");
  if (names == rule.end()) {
    return at(pointer + "/names", "required");
  }
  CONTD_RETURN_IF_ERROR(checkStringArray(*names, pointer + "/names"));
  if (names->empty()) {
    return at(pointer + "/names", "must not be empty");
  }
  json kept = json::array();
  for (const auto& name : *names) {
    const auto text = name.get<std::string>();
    if (::seccomp_syscall_resolve_name(text.c_str()) == __NR_SCMP_ERROR) {
      if (reported.insert(text).second) {
        out.unknown_names.push_back(text);
      }
      continue;
    }
    kept.push_back(text);
  }
  out.syscall_names += kept.size();
  const bool any = !kept.empty();
  *names = std::move(kept);
  return any;
}

void stripContdKeys(json& object) {
  object.erase("comment");
  object.erase("includes");
  object.erase("excludes");
}

bool holdsAll(const json& caps, const std::vector<std::string>& held) {
  return std::all_of(caps.begin(), caps.end(), [&](const json& cap) {
    return std::find(held.begin(), held.end(), cap.get<std::string>()) != held.end();
  });
}

bool holdsAny(const json& caps, const std::vector<std::string>& held) {
  return std::any_of(caps.begin(), caps.end(), [&](const json& cap) {
    return std::find(held.begin(), held.end(), cap.get<std::string>()) != held.end();
  });
}

Result<Profile> checkProfile(json document) {
  if (!document.is_object()) {
    return invalidArgument("expected a JSON object at the top level");
  }
  CONTD_RETURN_IF_ERROR(checkKeys(document, "",
                                  {"defaultAction", "defaultErrnoRet", "architectures", "flags",
                                   "listenerPath", "listenerMetadata", "syscalls", "comment"}));
  CONTD_RETURN_IF_ERROR(checkString(document, "", "comment", false));
  CONTD_RETURN_IF_ERROR(checkAction(document, "", "defaultAction"));
  CONTD_RETURN_IF_ERROR(checkUnsigned(document, "", "defaultErrnoRet"));
  CONTD_RETURN_IF_ERROR(checkString(document, "", "listenerPath", false));
  CONTD_RETURN_IF_ERROR(checkString(document, "", "listenerMetadata", false));
  CONTD_RETURN_IF_ERROR(checkArchitectures(document));
  CONTD_RETURN_IF_ERROR(checkFlags(document));
  keepRunnableArchitectures(document);

  Profile out;
  json rules = json::array();
  if (auto it = document.find("syscalls"); it != document.end() && !it->is_null()) {
    if (!it->is_array()) {
      return at("/syscalls", "expected array of objects");
    }
    std::set<std::string> reported;
    for (std::size_t i = 0; i < it->size(); ++i) {
      json rule = (*it)[i];
      auto kept = checkRule(rule, "/syscalls/" + std::to_string(i), out, reported);
      if (!kept) {
        return kept.error();
      }
      if (*kept) {
        rules.push_back(std::move(rule));
      }
    }
  }
  document["syscalls"] = std::move(rules);
  out.json = std::move(document);
  return out;
}

}  // namespace

Result<Profile> parseProfile(std::string_view text) {
  try {
    return checkProfile(json::parse(text));
  } catch (const json::parse_error& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the rest says where.
    std::string message = e.what();
    if (auto end = message.find("] "); message.starts_with("[json.") && end != std::string::npos) {
      message.erase(0, end + 2);
    }
    // "...; last read: 'root:$6$...'" would quote the file: a caller naming a file that is
    // not a profile (contd reads it as root) must not learn what is in it.
    if (auto quote = message.find("; last read: '"); quote != std::string::npos) {
      const auto close = message.find('\'', quote + 14);
      message.erase(quote, close == std::string::npos ? std::string::npos : close + 1 - quote);
    }
    return invalidArgument(message);
  } catch (const json::exception& e) {
    // The checks test every type before reading it; this keeps the promise if one is missed.
    return invalidArgument(e.what());
  }
}

Result<Profile> loadProfile(const std::filesystem::path& path) {
  const std::string prefix = "seccomp profile '" + path.string() + "'";
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return invalidArgument(prefix + ": is a directory");
  }
  std::ifstream in(path);
  if (!in) {
    // kInvalidArgument, not kNotFound: the path is part of a request or of the config.
    return invalidArgument(prefix + ": open: " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return invalidArgument(prefix + ": read: " + std::strerror(errno));
  }
  auto profile = parseProfile(text.str());
  if (!profile) {
    return profile.error().wrap(prefix);
  }
  return profile;
}

nlohmann::json forCapabilities(const nlohmann::json& profile,
                               const std::vector<std::string>& capabilities) {
  json out = profile;
  stripContdKeys(out);
  json rules = json::array();
  if (auto it = profile.find("syscalls"); it != profile.end() && it->is_array()) {
    for (const auto& rule : *it) {
      if (auto inc = rule.find("includes"); inc != rule.end() && inc->contains("caps") &&
                                            !holdsAll((*inc)["caps"], capabilities)) {
        continue;
      }
      if (auto exc = rule.find("excludes"); exc != rule.end() && exc->contains("caps") &&
                                            holdsAny((*exc)["caps"], capabilities)) {
        continue;
      }
      json copy = rule;
      stripContdKeys(copy);
      rules.push_back(std::move(copy));
    }
  }
  out["syscalls"] = std::move(rules);
  return out;
}

std::string nativeArchitecture() {
  switch (::seccomp_arch_native()) {
    case SCMP_ARCH_X86_64: return "x86_64";
    case SCMP_ARCH_X86: return "x86";
    case SCMP_ARCH_X32: return "x32";
    case SCMP_ARCH_AARCH64: return "aarch64";
    case SCMP_ARCH_ARM: return "arm";
    default: return "arch-" + std::to_string(::seccomp_arch_native());
  }
}

}  // namespace contd::seccomp
