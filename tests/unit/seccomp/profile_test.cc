// The seccomp profile reader (modules/seccomp/profile.h) and the default profile in etc/.

#include "modules/seccomp/profile.h"

#include <algorithm>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace contd::seccomp {
namespace {

using nlohmann::json;

bool hasName(const json& profile, const std::string& name) {
  for (const auto& rule : profile["syscalls"]) {
    for (const auto& n : rule["names"]) {
      if (n == name) {
        return true;
      }
    }
  }
  return false;
}

// The action of the first rule without args that names `name`, or "" when none.
std::string unconditionalAction(const json& profile, const std::string& name) {
  for (const auto& rule : profile["syscalls"]) {
    if (rule.contains("args")) {
      continue;
    }
    for (const auto& n : rule["names"]) {
      if (n == name) {
        return rule["action"].get<std::string>();
      }
    }
  }
  return "";
}

TEST(DefaultProfile, LoadsWithNoUnknownNamesOnThisArchitecture) {
  auto profile = loadProfile(CONTD_DEFAULT_SECCOMP_PROFILE);
  ASSERT_TRUE(profile) << profile.error().message;
  EXPECT_TRUE(profile->unknown_names.empty())
      << "unknown on " << nativeArchitecture() << ": " << json(profile->unknown_names).dump();
  EXPECT_GT(profile->syscall_names, 300u);
  EXPECT_EQ(profile->json["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(profile->json["defaultErrnoRet"], 1);
}

TEST(DefaultProfile, KeepsOnlyTheNativeArchitectureFamily) {
  auto profile = loadProfile(CONTD_DEFAULT_SECCOMP_PROFILE);
  ASSERT_TRUE(profile) << profile.error().message;
  const json& arches = profile->json["architectures"];
  ASSERT_FALSE(arches.empty());
  const std::string native = nativeArchitecture();
  if (native == "x86_64") {
    EXPECT_EQ(arches, json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  } else if (native == "aarch64") {
    EXPECT_EQ(arches, json({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  }
}

TEST(DefaultProfile, OrdinaryContainersGetNoMountsNamespacesOrKernelKeys) {
  auto profile = loadProfile(CONTD_DEFAULT_SECCOMP_PROFILE);
  ASSERT_TRUE(profile) << profile.error().message;
  const json plain = forCapabilities(profile->json, {"CAP_CHOWN", "CAP_KILL"});
  for (const char* name : {"mount", "umount2", "unshare", "setns", "pivot_root", "bpf", "keyctl",
                           "add_key", "request_key", "ptrace", "kexec_load", "init_module",
                           "reboot", "open_by_handle_at", "userfaultfd", "perf_event_open"}) {
    EXPECT_FALSE(hasName(plain, name)) << name;
  }
  EXPECT_EQ(unconditionalAction(plain, "read"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(unconditionalAction(plain, "clone3"), "SCMP_ACT_ERRNO");
  // contd's own keys never reach runc.
  EXPECT_FALSE(plain.contains("comment"));
  for (const auto& rule : plain["syscalls"]) {
    EXPECT_FALSE(rule.contains("comment") || rule.contains("includes") ||
                 rule.contains("excludes"))
        << rule.dump();
  }
}

TEST(DefaultProfile, ElevatedContainersMayMountAndUnshareButStillNoBpfOrKeys) {
  auto profile = loadProfile(CONTD_DEFAULT_SECCOMP_PROFILE);
  ASSERT_TRUE(profile) << profile.error().message;
  const json elevated = forCapabilities(profile->json, {"CAP_CHOWN", "CAP_SYS_ADMIN"});
  for (const char* name : {"mount", "umount2", "unshare", "setns"}) {
    EXPECT_EQ(unconditionalAction(elevated, name), "SCMP_ACT_ALLOW") << name;
  }
  EXPECT_EQ(unconditionalAction(elevated, "clone3"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(unconditionalAction(elevated, "clone"), "SCMP_ACT_ALLOW");
  for (const char* name : {"bpf", "keyctl", "add_key", "ptrace", "kexec_load"}) {
    EXPECT_FALSE(hasName(elevated, name)) << name;
  }
}

TEST(DefaultProfile, IsCompiledInAsTheBuiltinProfile) {
  auto file = loadProfile(CONTD_DEFAULT_SECCOMP_PROFILE);
  ASSERT_TRUE(file) << file.error().message;
  auto builtin = builtinProfile();
  ASSERT_TRUE(builtin) << builtin.error().message;
  EXPECT_EQ(builtin->json, file->json);
  EXPECT_EQ(builtin->syscall_names, file->syscall_names);
}

TEST(DefaultProfile, NoContainerMayTakeAnotherProcesssFileDescriptors) {
  // pidfd_getfd is ptrace's power over another process's files: containerd allows it only
  // with CAP_SYS_PTRACE, which contd never grants; ptrace, kcmp and process_vm_* likewise.
  auto profile = builtinProfile();
  ASSERT_TRUE(profile) << profile.error().message;
  for (const auto& caps : {std::vector<std::string>{"CAP_CHOWN"},
                           std::vector<std::string>{"CAP_CHOWN", "CAP_SYS_ADMIN"}}) {
    const json rendered = forCapabilities(profile->json, caps);
    for (const char* name : {"pidfd_getfd", "ptrace", "kcmp", "process_vm_readv",
                             "process_vm_writev"}) {
      EXPECT_FALSE(hasName(rendered, name)) << name;
    }
    EXPECT_TRUE(hasName(rendered, "pidfd_open"));
  }
}

TEST(ParseProfile, UnknownNamesAreReportedAndLeftOut) {
  auto profile = parseProfile(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["read", "no_such_syscall_x", "write"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["no_such_syscall_y"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["no_such_syscall_x"], "action": "SCMP_ACT_LOG"}]})");
  ASSERT_TRUE(profile) << profile.error().message;
  EXPECT_EQ(profile->unknown_names,
            (std::vector<std::string>{"no_such_syscall_x", "no_such_syscall_y"}));
  EXPECT_EQ(profile->syscall_names, 2u);
  // The rules left without names are gone: runc refuses an empty names list.
  ASSERT_EQ(profile->json["syscalls"].size(), 1u);
  EXPECT_EQ(profile->json["syscalls"][0]["names"], json({"read", "write"}));
}

TEST(ParseProfile, NamesKnownOnlyForAnotherArchitectureAreKept) {
  // _llseek is 32-bit only; libseccomp knows it, and runc needs it for the x86 subarch.
  auto profile = parseProfile(
      R"({"defaultAction": "SCMP_ACT_ERRNO",
          "syscalls": [{"names": ["_llseek", "read"], "action": "SCMP_ACT_ALLOW"}]})");
  ASSERT_TRUE(profile) << profile.error().message;
  EXPECT_TRUE(profile->unknown_names.empty());
  EXPECT_EQ(profile->json["syscalls"][0]["names"].size(), 2u);
}

TEST(ParseProfile, ErrorsNameTheJsonPointer) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([])", "expected a JSON object"},
      {R"({"syscalls": []})", "/defaultAction: required"},
      {R"({"defaultAction": "SCMP_ACT_NOPE"})", "/defaultAction: unknown action 'SCMP_ACT_NOPE'"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1})",
       "/defaultErrnoRet: expected unsigned integer"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_VAX"]})",
       "/architectures/0: unknown architecture 'SCMP_ARCH_VAX'"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "bogus": 1})", "/bogus: unknown key"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}})", "/syscalls: expected array"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]})",
       "/syscalls/0/names: required"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]})",
       "/syscalls/0/names: must not be empty"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]})",
       "/syscalls/0/action: required"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
           "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
       "/syscalls/0/args/0/index: expected an integer from 0 to 5"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
           "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]})",
       "/syscalls/0/args/0/op: unknown operator 'SCMP_CMP_LIKE'"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
           "includes": {"caps": ["SYS_ADMIN"]}}]})",
       "/syscalls/0/includes/caps/0: expected a CAP_ name"},
      {R"({"defaultAction": )", "syntax error"},
  };
  for (const auto& [text, expected] : cases) {
    auto profile = parseProfile(text);
    ASSERT_FALSE(profile) << text;
    EXPECT_EQ(profile.error().code, Code::kInvalidArgument);
    EXPECT_NE(profile.error().message.find(expected), std::string::npos)
        << text << " -> " << profile.error().message;
  }
}

TEST(ParseProfile, SyntaxErrorsDoNotQuoteTheFile) {
  auto profile = parseProfile("root:$6$secret-hash:19000:0:99999:7:::\n");
  ASSERT_FALSE(profile);
  EXPECT_NE(profile.error().message.find("syntax error"), std::string::npos)
      << profile.error().message;
  EXPECT_EQ(profile.error().message.find("root"), std::string::npos) << profile.error().message;
  EXPECT_EQ(profile.error().message.find("secret"), std::string::npos) << profile.error().message;
}

TEST(LoadProfile, MissingFileNamesThePathAndTheCause) {
  auto profile = loadProfile("/no/such/dir/profile.json");
  ASSERT_FALSE(profile);
  EXPECT_EQ(profile.error().code, Code::kInvalidArgument);
  EXPECT_NE(profile.error().message.find("seccomp profile '/no/such/dir/profile.json'"),
            std::string::npos)
      << profile.error().message;
  EXPECT_NE(profile.error().message.find("No such file or directory"), std::string::npos)
      << profile.error().message;
}

TEST(ForCapabilities, IncludesNeedAllCapsExcludesAny) {
  auto profile = parseProfile(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}},
      {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}}]})");
  ASSERT_TRUE(profile) << profile.error().message;
  EXPECT_TRUE(hasName(forCapabilities(profile->json, {}), "clone"));
  EXPECT_FALSE(hasName(forCapabilities(profile->json, {}), "mount"));
  EXPECT_FALSE(hasName(forCapabilities(profile->json, {"CAP_SYS_ADMIN"}), "mount"));
  EXPECT_FALSE(hasName(forCapabilities(profile->json, {"CAP_SYS_ADMIN"}), "clone"));
  EXPECT_TRUE(hasName(forCapabilities(profile->json, {"CAP_SYS_ADMIN", "CAP_NET_ADMIN"}), "mount"));
  EXPECT_TRUE(hasName(forCapabilities(profile->json, {"CAP_SYS_ADMIN"}), "read"));
}

}  // namespace
}  // namespace contd::seccomp
