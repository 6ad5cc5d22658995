// The runtime and shim grouping of containers (runtime_choice.h): what the config words
// mean, what a host can run (a binary that is there; crun not on a hybrid cgroup host
// whose unified hierarchy holds a controller), and how a choice lands in a container's
// record and spec and is read back for Inspect.

#include "modules/container/runtime_choice.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace contd::container {
namespace {

namespace fs = std::filesystem;

class RuntimeChoiceTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("contd-runtime-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "cgroup");
    const char* path = std::getenv("PATH");
    saved_path_ = path != nullptr ? path : "";
    ::setenv("PATH", (dir_ / "bin").c_str(), 1);
  }
  void TearDown() override {
    ::setenv("PATH", saved_path_.c_str(), 1);
    fs::remove_all(dir_);
  }

  void binary(const std::string& name) {
    std::ofstream(dir_ / "bin" / name) << "#!/bin/sh\n";
    fs::permissions(dir_ / "bin" / name, fs::perms::owner_all);
  }
  // A hybrid cgroup v1 host: no cgroup.controllers at the root, cgroup2 at unified/.
  void hybrid(const std::string& unified_controllers) {
    fs::create_directories(dir_ / "cgroup" / "unified");
    std::ofstream(dir_ / "cgroup" / "unified" / "cgroup.controllers") << unified_controllers;
  }

  fs::path dir_;
  std::string saved_path_;
};

TEST_F(RuntimeChoiceTest, ConfigWordsAreCheckedNamingTheKey) {
  EXPECT_TRUE(checkRuntimeName("runc", "runtime"));
  EXPECT_TRUE(checkRuntimeName("crun", "runtime"));
  EXPECT_TRUE(checkRuntimeName("/opt/bin/youki", "runtime"));
  auto relative = checkRuntimeName("bin/crun", "runtime");
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().message.find("runtime"), std::string::npos);
  EXPECT_FALSE(checkRuntimeName("", "runtime"));
  EXPECT_EQ(*parseShimGroup("none", "shim_group"), ShimGroup::kNone);
  EXPECT_EQ(*parseShimGroup("namespace", "shim_group"), ShimGroup::kNamespace);
  auto bad = parseShimGroup("pod", "shim_group");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("shim_group"), std::string::npos);
}

TEST_F(RuntimeChoiceTest, AMissingBinaryIsRefusedNamingTheKey) {
  auto missing = usableRuntime({.runtime = "crun"}, dir_ / "cgroup", nullptr);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("not found in PATH"), std::string::npos);
  EXPECT_NE(missing.error().message.find("config key runtime"), std::string::npos);
  auto not_executable = usableRuntime({.runtime = (dir_ / "nothing").string()}, dir_, nullptr);
  ASSERT_FALSE(not_executable);
  EXPECT_NE(not_executable.error().message.find("not an executable file"), std::string::npos);
  binary("crun");
  auto found = usableRuntime({.runtime = "crun"}, dir_ / "cgroup", nullptr);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->runtime, "crun");
}

TEST_F(RuntimeChoiceTest, CrunFallsBackToRuncWhereTheUnifiedHierarchyHoldsAController) {
  binary("crun");
  binary("runc");
  hybrid("hugetlb\n");
  EXPECT_EQ(unifiedControllers(dir_ / "cgroup"), "hugetlb");
  std::string warning;
  auto chosen = usableRuntime({.runtime = "crun", .shim_group = ShimGroup::kNamespace},
                              dir_ / "cgroup", &warning);
  ASSERT_TRUE(chosen) << chosen.error().message;
  EXPECT_EQ(chosen->runtime, "runc");
  EXPECT_EQ(chosen->shim_group, ShimGroup::kNamespace);  // the grouping stays
  EXPECT_NE(warning.find("hugetlb"), std::string::npos) << warning;
  EXPECT_NE(warning.find("hybrid"), std::string::npos) << warning;

  // An empty unified hierarchy (the controllers moved to v1 hierarchies) lets crun run.
  hybrid("");
  warning.clear();
  chosen = usableRuntime({.runtime = "crun"}, dir_ / "cgroup", &warning);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->runtime, "crun");
  EXPECT_TRUE(warning.empty()) << warning;
}

TEST_F(RuntimeChoiceTest, CgroupV2OnlyHostsNeedNothing) {
  std::ofstream(dir_ / "cgroup" / "cgroup.controllers") << "cpu memory pids hugetlb\n";
  EXPECT_EQ(unifiedControllers(dir_ / "cgroup"), "");
  binary("crun");
  auto chosen = usableRuntime({.runtime = "crun"}, dir_ / "cgroup", nullptr);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->runtime, "crun");
}

TEST_F(RuntimeChoiceTest, TheChoiceLandsInTheRecordAndSpecAndIsReadBack) {
  containerd::ContainerRecord record;
  nlohmann::json spec = {{"ociVersion", "1.0.2"}, {"annotations", {{"a", "b"}}}};
  applyRuntimeChoice({.runtime = "crun", .shim_group = ShimGroup::kNamespace}, "ns1", record,
                     spec);
  EXPECT_EQ(record.runtime_binary, "crun");
  EXPECT_EQ(spec["annotations"][kShimGroupAnnotation], "ns1");
  EXPECT_EQ(spec["annotations"]["a"], "b");
  EXPECT_EQ(runtimeOf(record), "crun");
  EXPECT_EQ(shimGroupOf(spec), ShimGroup::kNamespace);

  // runc, ungrouped: the record and spec stay as containerd's defaults would have them.
  containerd::ContainerRecord plain;
  nlohmann::json plain_spec = {{"ociVersion", "1.0.2"}};
  applyRuntimeChoice({}, "ns1", plain, plain_spec);
  EXPECT_TRUE(plain.runtime_binary.empty());
  EXPECT_FALSE(plain_spec.contains("annotations"));
  EXPECT_EQ(runtimeOf(plain), "runc");
  EXPECT_EQ(shimGroupName(shimGroupOf(plain_spec)), "none");
}

// crun gets the filter compiled once by contd, unless seccomp_precompile is off; runc never
// does (it has no such annotation); a spec without linux.seccomp has nothing to compile.
TEST_F(RuntimeChoiceTest, OnlyCrunGetsThePrecompiledFilterAndOnlyWhenAskedFor) {
  seccomp::BpfCache bpf;
  const nlohmann::json filter = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls",
                                  {{{"names", {"unshare"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  const auto annotated = [&](const RuntimeChoice& choice, bool with_seccomp) {
    containerd::ContainerRecord record;
    nlohmann::json spec = {{"ociVersion", "1.0.2"}, {"linux", nlohmann::json::object()}};
    if (with_seccomp) {
      spec["linux"]["seccomp"] = filter;
    }
    applyRuntimeChoice(choice, "ns1", record, spec, &bpf);
    const auto annotations = spec.find("annotations");
    return annotations != spec.end() && annotations->contains(seccomp::kBpfAnnotation)
               ? (*annotations)[seccomp::kBpfAnnotation].get<std::string>()
               : std::string();
  };
  const std::string compiled = annotated({.runtime = "crun"}, true);
  EXPECT_FALSE(compiled.empty());
  EXPECT_EQ(compiled, *bpf.base64For(filter));
  EXPECT_EQ(annotated({.runtime = "crun", .precompile_seccomp = false}, true), "");
  EXPECT_EQ(annotated({.runtime = "runc"}, true), "");
  EXPECT_EQ(annotated({.runtime = "crun"}, false), "");
}

}  // namespace
}  // namespace contd::container
