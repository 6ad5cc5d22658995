#include "modules/seccomp/bpf.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "modules/common/unique_fd.h"

namespace contd::seccomp {

namespace {

using json = nlohmann::json;

// The errno of an ERRNO or TRACE action: `key` of `owner` ("defaultErrnoRet" of the
// profile, "errnoRet" of a rule), EPERM when unset, as runc and crun read them.
std::uint32_t errnoOf(const json& owner, const char* key) {
  auto it = owner.find(key);
  return it != owner.end() && it->is_number_integer() && it->get<std::int64_t>() >= 0
             ? it->get<std::uint32_t>()
             : EPERM;
}

// libseccomp's action for an OCI action name; `errno_ret` for ERRNO and TRACE.
Result<std::uint32_t> actionOf(const std::string& name, std::uint32_t errno_ret) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  return invalidArgument("seccomp action '" + name + "' cannot be precompiled");
}

Result<scmp_compare> operatorOf(const std::string& name) {
  static const std::map<std::string, scmp_compare> kOps = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  auto it = kOps.find(name);
  if (it == kOps.end()) {
    return invalidArgument("seccomp operator '" + name + "' unknown");
  }
  return it->second;
}

struct Filter {
  scmp_filter_ctx ctx = nullptr;
  ~Filter() {
    if (ctx != nullptr) {
      ::seccomp_release(ctx);
    }
  }
};

Status addArchitectures(scmp_filter_ctx ctx, const json& profile) {
  for (const auto& arch : profile.value("architectures", json::array())) {
    std::string name = arch.get<std::string>();
    name = name.starts_with("SCMP_ARCH_") ? name.substr(10) : name;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::uint32_t token = ::seccomp_arch_resolve_name(name.c_str());
    if (token == 0) {
      return invalidArgument("seccomp architecture '" + arch.get<std::string>() + "' unknown");
    }
    if (const int rc = ::seccomp_arch_add(ctx, token); rc != 0 && rc != -EEXIST) {
      return invalidArgument("seccomp architecture '" + arch.get<std::string>() +
                             "': " + std::strerror(-rc));
    }
  }
  return okStatus();
}

Result<std::vector<scmp_arg_cmp>> conditionsOf(const json& rule) {
  std::vector<scmp_arg_cmp> out;
  for (const auto& arg : rule.value("args", json::array())) {
    auto op = operatorOf(arg.value("op", ""));
    if (!op) {
      return op.error();
    }
    out.push_back({.arg = arg.value("index", 0u),
                   .op = *op,
                   .datum_a = arg.value("value", std::uint64_t{0}),
                   .datum_b = arg.value("valueTwo", std::uint64_t{0})});
  }
  return out;
}

// One syscall's rule; conditions that repeat an argument index become one rule each.
Status addRule(scmp_filter_ctx ctx, int nr, std::uint32_t action,
               const std::vector<scmp_arg_cmp>& conditions) {
  std::set<unsigned> indexes;
  for (const auto& c : conditions) {
    indexes.insert(c.arg);
  }
  int rc = 0;
  if (indexes.size() == conditions.size()) {
    rc = ::seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conditions.size()),
                                  conditions.data());
  } else {
    for (const auto& c : conditions) {
      if ((rc = ::seccomp_rule_add_array(ctx, action, nr, 1, &c)) != 0) {
        break;
      }
    }
  }
  if (rc != 0) {
    return invalidArgument("seccomp rule for syscall " + std::to_string(nr) + ": " +
                           std::strerror(-rc));
  }
  return okStatus();
}

Status addRules(scmp_filter_ctx ctx, const json& profile, std::uint32_t default_action) {
  for (const auto& rule : profile.value("syscalls", json::array())) {
    auto action = actionOf(rule.value("action", ""), errnoOf(rule, "errnoRet"));
    if (!action) {
      return action.error();
    }
    if (*action == default_action) {
      continue;  // libseccomp refuses a rule that says what the default says
    }
    auto conditions = conditionsOf(rule);
    if (!conditions) {
      return conditions.error();
    }
    for (const auto& name : rule.value("names", json::array())) {
      const int nr = ::seccomp_syscall_resolve_name(name.get<std::string>().c_str());
      if (nr == __NR_SCMP_ERROR) {
        continue;  // not a syscall of these architectures
      }
      CONTD_RETURN_IF_ERROR(addRule(ctx, nr, *action, *conditions));
    }
  }
  return okStatus();
}

Result<std::string> exported(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("contd-seccomp-bpf", MFD_CLOEXEC));
  if (!fd.valid()) {
    return internalError(std::string("memfd_create: ") + std::strerror(errno));
  }
  if (const int rc = ::seccomp_export_bpf(ctx, fd.get()); rc != 0) {
    return internalError(std::string("seccomp_export_bpf: ") + std::strerror(-rc));
  }
  std::string bpf;
  char buffer[8192];
  ::lseek(fd.get(), 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd.get(), buffer, sizeof(buffer))) > 0;) {
    bpf.append(buffer, static_cast<std::size_t>(n));
  }
  return bpf;
}

}  // namespace

Result<std::string> compileBpf(const json& linux_seccomp) {
  if (!linux_seccomp.is_object()) {
    return invalidArgument("linux.seccomp: expected an object");
  }
  auto default_action =
      actionOf(linux_seccomp.value("defaultAction", ""), errnoOf(linux_seccomp, "defaultErrnoRet"));
  if (!default_action) {
    return default_action.error();
  }
  Filter filter;
  filter.ctx = ::seccomp_init(*default_action);
  if (filter.ctx == nullptr) {
    return invalidArgument("seccomp_init refused the default action");
  }
  // The runtime sets no_new_privs itself, as the spec says (process.noNewPrivileges).
  ::seccomp_attr_set(filter.ctx, SCMP_FLTATR_CTL_NNP, 0);
  CONTD_RETURN_IF_ERROR(addArchitectures(filter.ctx, linux_seccomp));
  CONTD_RETURN_IF_ERROR(addRules(filter.ctx, linux_seccomp, *default_action));
  return exported(filter.ctx);
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                            std::uint8_t(bytes[i + 2]);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63],
            kAlphabet[n & 63]};
  }
  if (i < bytes.size()) {
    std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) {
      n |= std::uint8_t(bytes[i + 1]) << 8;
    }
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> BpfCache::base64For(const json& linux_seccomp) {
  const std::string key = linux_seccomp.dump();
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second.first = ++clock_;
    return it->second.second;
  }
  auto bpf = compileBpf(linux_seccomp);
  if (!bpf) {
    return bpf.error();
  }
  if (entries_.size() >= capacity_) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return a.second.first < b.second.first;
    });
    entries_.erase(oldest);
  }
  std::string encoded = base64(*bpf);
  entries_[key] = {++clock_, encoded};
  return encoded;
}

}  // namespace contd::seccomp
