// The seccomp filter contd compiles for crun (seccomp/bpf.h): a BPF program of whole
// instructions for the built-in profile, one per distinct profile in the cache, refusals
// named. That the filter in force behaves like the profile is proven on real parts
// (RuntimeModesIT: EPERM where the profile says so, allowed where it allows).

#include "modules/seccomp/bpf.h"

#include <linux/filter.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "modules/seccomp/profile.h"

namespace contd::seccomp {
namespace {

nlohmann::json containerProfile(const std::vector<std::string>& caps) {
  auto profile = builtinProfile();
  EXPECT_TRUE(profile) << profile.error().message;
  return forCapabilities(profile->json, caps);
}

TEST(SeccompBpfTest, TheBuiltinProfileCompilesToWholeInstructions) {
  auto bpf = compileBpf(containerProfile({"CAP_CHOWN", "CAP_KILL"}));
  ASSERT_TRUE(bpf) << bpf.error().message;
  EXPECT_GT(bpf->size(), 100 * sizeof(sock_filter));
  EXPECT_EQ(bpf->size() % sizeof(sock_filter), 0u);
}

TEST(SeccompBpfTest, ARuleLikeTheDefaultAndUnknownNamesAreLeftOut) {
  const nlohmann::json plain = {{"defaultAction", "SCMP_ACT_ERRNO"},
                                {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
  nlohmann::json more = plain;
  more["syscalls"].push_back({{"names", {"no_such_call"}}, {"action", "SCMP_ACT_ALLOW"}});
  more["syscalls"].push_back({{"names", {"write"}}, {"action", "SCMP_ACT_ERRNO"}});
  auto a = compileBpf(plain);
  auto b = compileBpf(more);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
}

TEST(SeccompBpfTest, TheDefaultErrnoIsTheProfilesDefaultErrnoRet) {
  // An ERRNO default answers defaultErrnoRet (EPERM when unset), as runc and crun make it.
  const nlohmann::json unset = {{"defaultAction", "SCMP_ACT_ERRNO"}};
  nlohmann::json eperm = unset;
  eperm["defaultErrnoRet"] = 1;
  nlohmann::json enosys = unset;
  enosys["defaultErrnoRet"] = 38;
  auto a = compileBpf(unset);
  auto b = compileBpf(eperm);
  auto c = compileBpf(enosys);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  // A rule's own errnoRet (EPERM when unset) is not the default's.
  nlohmann::json rule = enosys;
  rule["syscalls"] = {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}};
  auto d = compileBpf(rule);
  ASSERT_TRUE(d);
  EXPECT_NE(*d, *c);  // mkdir gets EPERM, everything else ENOSYS
}

TEST(SeccompBpfTest, ConditionsOnOneArgumentBecomeSeparateRules) {
  // personality(0) or personality(8): two conditions on argument 0, as Docker's profile has.
  const nlohmann::json profile = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"syscalls",
       {{{"names", {"personality"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"args", {{{"index", 0}, {"value", 0}, {"op", "SCMP_CMP_EQ"}},
                   {{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_EQ"}}}}}}}};
  auto bpf = compileBpf(profile);
  ASSERT_TRUE(bpf) << bpf.error().message;
}

TEST(SeccompBpfTest, WhatCannotBePrecompiledIsNamed) {
  auto notify = compileBpf({{"defaultAction", "SCMP_ACT_NOTIFY"}});
  ASSERT_FALSE(notify);
  EXPECT_NE(notify.error().message.find("SCMP_ACT_NOTIFY"), std::string::npos);
  auto arch = compileBpf({{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_VAX"}}});
  ASSERT_FALSE(arch);
  EXPECT_NE(arch.error().message.find("SCMP_ARCH_VAX"), std::string::npos);
  EXPECT_FALSE(compileBpf(nlohmann::json::array()));
}

TEST(SeccompBpfTest, Base64IsTheStandardAlphabetWithPadding) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(SeccompBpfTest, TheCacheKeepsOneFilterPerProfileAndForgetsTheOldest) {
  BpfCache cache(2);
  const auto small = containerProfile({});
  const auto admin = containerProfile({"CAP_SYS_ADMIN"});
  auto first = cache.base64For(small);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, base64(*compileBpf(small)));
  auto again = cache.base64For(small);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);
  auto other = cache.base64For(admin);
  ASSERT_TRUE(other);
  EXPECT_NE(*other, *first);  // CAP_SYS_ADMIN's rules differ
  const nlohmann::json third = {{"defaultAction", "SCMP_ACT_ALLOW"}};
  ASSERT_TRUE(cache.base64For(third));  // evicts the least recently used
  EXPECT_EQ(*cache.base64For(small), *first);
}

}  // namespace
}  // namespace contd::seccomp
