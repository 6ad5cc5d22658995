#include "modules/container/spec_builder.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/container/command_line.h"
#include "modules/container/service.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Strings = std::vector<std::string>;

const Strings kDefaultCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

fs::path goldenPath(const char* name) {
  // The fixtures sit next to the unit tests in the source tree: tests/fixtures/specs/.
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "fixtures" / "specs" / name;
}

class SpecBuilderTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "contd-spec-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    std::ofstream(root_ / "resolv.conf") << "nameserver 192.0.2.1\n";
    options_.resolv_conf = root_ / "resolv.conf";
    options_.default_pids_limit = 4096;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static ContainerSpec minimalSpec() {
    ContainerSpec spec;
    spec.name = "web";
    spec.rootfs = "/srv/rootfs/web";
    spec.entrypoint = "/bin/sh -c 'sleep 1000'";
    spec.network_namespace = "net1";
    return spec;
  }

  // The checked request the builder takes, made by hand as validateSpec would make it
  // (these specs name paths that exist nowhere; validation_test.cc tests the checks).
  ValidSpec checked(const ContainerSpec& spec, std::string_view ns = "zos") const {
    ValidSpec valid{.ns = std::string(ns), .spec = spec};
    valid.argv = spec.argv.empty() ? splitCommandLine(spec.entrypoint).value() : spec.argv;
    valid.netns_path = spec.network_namespace.front() == '/'
                           ? fs::path(spec.network_namespace)
                           : netns_dir_ / spec.network_namespace;
    valid.user = parseUser(spec.user).value();
    return valid;
  }

  json build(const ContainerSpec& spec, std::string_view ns = "zos") const {
    auto oci = buildRuntimeSpec(checked(spec, ns), options_);
    EXPECT_TRUE(oci.ok()) << oci.error().message;
    return oci ? *oci : json();
  }

  // The mount at `destination`, or null when there is none.
  static json mountAt(const json& oci, std::string_view destination) {
    for (const auto& m : oci.at("mounts")) {
      if (m.at("destination") == destination) {
        return m;
      }
    }
    return nullptr;
  }

  fs::path root_;
  fs::path netns_dir_ = "/var/run/netns";
  SpecOptions options_;
};

TEST_F(SpecBuilderTest, SetsVersionRootAndProcessDefaults) {
  const json oci = build(minimalSpec());
  EXPECT_EQ(oci.at("ociVersion"), "1.0.2-dev");
  EXPECT_EQ(oci.at("root"), (json{{"path", "/srv/rootfs/web"}, {"readonly", false}}));
  const json& process = oci.at("process");
  EXPECT_EQ(process.at("args"), (Strings{"/bin/sh", "-c", "sleep 1000"}));
  EXPECT_EQ(process.at("cwd"), "/");
  EXPECT_EQ(process.at("user"), (json{{"uid", 0}, {"gid", 0}}));
  EXPECT_EQ(process.at("noNewPrivileges"), true);
  EXPECT_EQ(process.at("terminal"), false);
  EXPECT_EQ(process.at("rlimits"),
            json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}));
}

TEST_F(SpecBuilderTest, ProcessRunsAsTheResolvedUser) {
  auto spec = minimalSpec();
  spec.user = "app";  // stored as given; the builder never looks it up
  auto oci = buildRuntimeSpec(checked(spec, "zos"), options_,
                              ProcessUser{.uid = 1000, .gid = 1000, .additional_gids = {2000, 3}});
  ASSERT_TRUE(oci) << oci.error().message;
  EXPECT_EQ(oci->at("process").at("user"),
            (json{{"uid", 1000}, {"gid", 1000}, {"additionalGids", {2000, 3}}}));
  EXPECT_EQ(json::parse(oci->at("annotations").at(kSpecAnnotation).get<std::string>())
                .at("user"),
            "app");

  // No supplementary groups: no additionalGids key at all.
  oci = buildRuntimeSpec(checked(spec, "zos"), options_, ProcessUser{.uid = 1234, .gid = 5678});
  ASSERT_TRUE(oci) << oci.error().message;
  EXPECT_EQ(oci->at("process").at("user"), (json{{"uid", 1234}, {"gid", 5678}}));
  // Without a user: root.
  EXPECT_EQ(build(spec).at("process").at("user"), (json{{"uid", 0}, {"gid", 0}}));
}

TEST_F(SpecBuilderTest, PrefersArgvOverEntrypoint) {
  auto spec = minimalSpec();
  spec.argv = {"/usr/bin/env", "a b"};
  spec.working_dir = "/srv";
  const json oci = build(spec);
  EXPECT_EQ(oci.at("process").at("args"), spec.argv);
  EXPECT_EQ(oci.at("process").at("cwd"), "/srv");
}

TEST_F(SpecBuilderTest, AddsDefaultPathOnlyWhenCallerGaveNone) {
  auto spec = minimalSpec();
  spec.env = {"A=1"};
  EXPECT_EQ(build(spec).at("process").at("env"),
            (Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1"}));
  spec.env = {"A=1", "PATH=/opt/bin"};
  EXPECT_EQ(build(spec).at("process").at("env"), spec.env);
  // A variable that merely ends in PATH is not PATH.
  spec.env = {"MANPATH=/x"};
  EXPECT_EQ(build(spec).at("process").at("env").size(), 2u);
}

TEST_F(SpecBuilderTest, DefaultCapabilitiesAreBoundedEffectivePermittedOnly) {
  const json caps = build(minimalSpec()).at("process").at("capabilities");
  EXPECT_EQ(caps.at("bounding"), kDefaultCaps);
  EXPECT_EQ(caps.at("effective"), kDefaultCaps);
  EXPECT_EQ(caps.at("permitted"), kDefaultCaps);
  EXPECT_FALSE(caps.contains("inheritable"));
  EXPECT_FALSE(caps.contains("ambient"));
  const json oci = build(minimalSpec());
  EXPECT_FALSE(oci.at("linux").contains("devices"));
  for (const auto& rule : oci.at("linux").at("resources").at("devices")) {
    EXPECT_FALSE(rule.value("major", 0) == 10 && rule.value("minor", 0) == 229) << rule;
  }
}

TEST_F(SpecBuilderTest, ElevatedAddsSysAdminAndFuseOnly) {
  auto spec = minimalSpec();
  spec.elevated = true;
  const json oci = build(spec);
  Strings elevated = kDefaultCaps;
  elevated.push_back("CAP_SYS_ADMIN");
  const json& caps = oci.at("process").at("capabilities");
  EXPECT_EQ(caps.at("bounding"), elevated);
  EXPECT_EQ(caps.at("effective"), elevated);
  EXPECT_EQ(caps.at("permitted"), elevated);
  EXPECT_FALSE(caps.contains("inheritable"));

  EXPECT_EQ(oci.at("linux").at("devices"), json::array({{{"path", "/dev/fuse"},
                                                         {"type", "c"},
                                                         {"major", 10},
                                                         {"minor", 229},
                                                         {"fileMode", 0666},
                                                         {"uid", 0},
                                                         {"gid", 0}}}));
  const json& rules = oci.at("linux").at("resources").at("devices");
  const json fuse_rule = {
      {"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rwm"}};
  EXPECT_EQ(rules.back(), fuse_rule);
  // Exactly one device more than a default container.
  EXPECT_EQ(rules.size(),
            build(minimalSpec()).at("linux").at("resources").at("devices").size() + 1);
}

TEST_F(SpecBuilderTest, DeviceRulesDenyAllThenAllowTheStandardNodes) {
  const json rules = build(minimalSpec()).at("linux").at("resources").at("devices");
  ASSERT_FALSE(rules.empty());
  EXPECT_EQ(rules.front(), (json{{"allow", false}, {"access", "rwm"}}));
  auto allows = [&](int major, int minor) {
    for (const auto& rule : rules) {
      if (rule.at("allow") == true && rule.at("type") == "c" && rule.at("major") == major &&
          (!rule.contains("minor") || rule.at("minor") == minor)) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(allows(1, 3));      // null
  EXPECT_TRUE(allows(1, 5));      // zero
  EXPECT_TRUE(allows(1, 9));      // urandom
  EXPECT_TRUE(allows(5, 2));      // ptmx
  EXPECT_TRUE(allows(136, 7));    // a pts
  EXPECT_FALSE(allows(8, 0));     // a disk
  EXPECT_FALSE(allows(10, 229));  // fuse
}

TEST_F(SpecBuilderTest, JoinsTheNetworkNamespaceByPath) {
  auto spec = minimalSpec();
  json namespaces = build(spec).at("linux").at("namespaces");
  EXPECT_EQ(namespaces, json::array({{{"type", "pid"}},
                                     {{"type", "ipc"}},
                                     {{"type", "uts"}},
                                     {{"type", "mount"}},
                                     {{"type", "network"}, {"path", "/var/run/netns/net1"}}}));
  netns_dir_ = "/run/custom-netns";
  namespaces = build(spec).at("linux").at("namespaces");
  EXPECT_EQ(namespaces.back().at("path"), "/run/custom-netns/net1");
  spec.network_namespace = "/proc/1234/ns/net";
  namespaces = build(spec).at("linux").at("namespaces");
  EXPECT_EQ(namespaces.back().at("path"), "/proc/1234/ns/net");
}

TEST_F(SpecBuilderTest, MountsTheStandardFilesystemsFirst) {
  const json mounts = build(minimalSpec()).at("mounts");
  Strings destinations;
  for (const auto& m : mounts) {
    destinations.push_back(m.at("destination"));
  }
  EXPECT_EQ(destinations, (Strings{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                                   "/sys/fs/cgroup", "/etc/resolv.conf"}));
  EXPECT_EQ(mounts.at(1),
            (json{{"destination", "/dev"},
                  {"type", "tmpfs"},
                  {"source", "tmpfs"},
                  {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}}));
  const Strings sys_options = mounts.at(5).at("options");
  EXPECT_NE(std::find(sys_options.begin(), sys_options.end(), "ro"), sys_options.end());
  const Strings cgroup_options = mounts.at(6).at("options");
  EXPECT_NE(std::find(cgroup_options.begin(), cgroup_options.end(), "ro"), cgroup_options.end());
}

TEST_F(SpecBuilderTest, BindsResolvConfReadOnlyWhenItExists) {
  json resolv = mountAt(build(minimalSpec()), "/etc/resolv.conf");
  ASSERT_FALSE(resolv.is_null());
  EXPECT_EQ(resolv.at("type"), "bind");
  EXPECT_EQ(resolv.at("source"), (root_ / "resolv.conf").string());
  const Strings options = resolv.at("options");
  EXPECT_NE(std::find(options.begin(), options.end(), "ro"), options.end());
  EXPECT_NE(std::find(options.begin(), options.end(), "rbind"), options.end());

  options_.resolv_conf = root_ / "missing.conf";
  EXPECT_TRUE(mountAt(build(minimalSpec()), "/etc/resolv.conf").is_null());
  options_.resolv_conf = root_;  // a directory is not a resolv.conf
  EXPECT_TRUE(mountAt(build(minimalSpec()), "/etc/resolv.conf").is_null());
}

TEST_F(SpecBuilderTest, BindsCallerMountsPrivatelyAndReadOnlyWhenAsked) {
  auto spec = minimalSpec();
  spec.mounts = {{"/srv/data", "/data", false}, {"/srv/conf", "/etc/app", true}};
  const json oci = build(spec);
  EXPECT_EQ(mountAt(oci, "/data"), (json{{"destination", "/data"},
                                         {"type", "bind"},
                                         {"source", "/srv/data"},
                                         {"options", {"rbind", "rprivate"}}}));
  EXPECT_EQ(mountAt(oci, "/etc/app"), (json{{"destination", "/etc/app"},
                                            {"type", "bind"},
                                            {"source", "/srv/conf"},
                                            {"options", {"rbind", "rprivate", "ro"}}}));
  // After the defaults, in the caller's order, so they can cover default paths.
  const json& mounts = oci.at("mounts");
  EXPECT_EQ(mounts.at(mounts.size() - 2).at("destination"), "/data");
  EXPECT_EQ(mounts.back().at("destination"), "/etc/app");
}

TEST_F(SpecBuilderTest, MasksKernelPaths) {
  const json linux_section = build(minimalSpec()).at("linux");
  EXPECT_EQ(linux_section.at("maskedPaths"),
            (Strings{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                     "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                     "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap",
                     "/proc/scsi"}));
  EXPECT_EQ(linux_section.at("readonlyPaths"),
            (Strings{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
}

TEST_F(SpecBuilderTest, PutsTheCgroupUnderTheNamespace) {
  EXPECT_EQ(build(minimalSpec(), "ns-1").at("linux").at("cgroupsPath"), "/ns-1/web");
}

TEST_F(SpecBuilderTest, SetsNoCpuOrMemoryLimitByDefault) {
  const json resources = build(minimalSpec()).at("linux").at("resources");
  EXPECT_FALSE(resources.contains("memory"));
  EXPECT_FALSE(resources.contains("cpu"));
  EXPECT_EQ(resources.at("pids"), (json{{"limit", 4096}}));
}

TEST_F(SpecBuilderTest, TranslatesLimits) {
  auto spec = minimalSpec();
  spec.cpu = 3;
  spec.memory_bytes = 512ULL << 20;
  spec.pids_limit = 50;
  const json resources = build(spec).at("linux").at("resources");
  EXPECT_EQ(resources.at("cpu"), (json{{"quota", 300000}, {"period", 100000}}));
  EXPECT_EQ(resources.at("memory"), (json{{"limit", 512LL << 20}}));
  EXPECT_EQ(resources.at("pids"), (json{{"limit", 50}}));
}

TEST_F(SpecBuilderTest, UnlimitedPidsOnlyWhenAsked) {
  auto spec = minimalSpec();
  spec.pids_limit = -1;
  EXPECT_FALSE(build(spec).at("linux").at("resources").contains("pids"));
  spec.pids_limit = 0;
  options_.default_pids_limit = 123;
  EXPECT_EQ(build(spec).at("linux").at("resources").at("pids").at("limit"), 123);
  options_.default_pids_limit = 0;
  EXPECT_FALSE(build(spec).at("linux").at("resources").contains("pids"));
}

TEST_F(SpecBuilderTest, SeccompProfileOnlyWhenConfigured) {
  EXPECT_FALSE(build(minimalSpec()).at("linux").contains("seccomp"));
  const json profile = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"syscalls", json::array({{{"names", {"read", "write"}}, {"action", "SCMP_ACT_ALLOW"}}})}};
  options_.seccomp_profile = profile;
  EXPECT_EQ(build(minimalSpec()).at("linux").at("seccomp"), profile);
}

// A daemon profile with contd's capability conditions, as seccomp::loadProfile gives it.
json conditionalProfile() {
  return {{"defaultAction", "SCMP_ACT_ERRNO"},
          {"defaultErrnoRet", 1},
          {"syscalls",
           json::array({{{"names", {"read"}}, {"action", "SCMP_ACT_ALLOW"}},
                        {{"names", {"mount"}},
                         {"action", "SCMP_ACT_ALLOW"},
                         {"includes", {{"caps", {"CAP_SYS_ADMIN"}}}}},
                        {{"names", {"clone3"}},
                         {"action", "SCMP_ACT_ERRNO"},
                         {"errnoRet", 38},
                         {"excludes", {{"caps", {"CAP_SYS_ADMIN"}}}}}})}};
}

TEST_F(SpecBuilderTest, DefaultSeccompIsRenderedForTheContainersCapabilities) {
  options_.seccomp_profile = conditionalProfile();
  auto spec = minimalSpec();
  for (const char* value : {"", "default"}) {
    spec.seccomp = value;
    const json plain = build(spec).at("linux").at("seccomp");
    EXPECT_EQ(plain.at("syscalls"),
              json::array({{{"names", {"read"}}, {"action", "SCMP_ACT_ALLOW"}},
                           {{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}));
  }
  spec.elevated = true;
  const json elevated = build(spec).at("linux").at("seccomp");
  EXPECT_EQ(elevated.at("syscalls"),
            json::array({{{"names", {"read"}}, {"action", "SCMP_ACT_ALLOW"}},
                         {{"names", {"mount"}}, {"action", "SCMP_ACT_ALLOW"}}}));
}

TEST_F(SpecBuilderTest, UnconfinedHasNoSeccomp) {
  options_.seccomp_profile = conditionalProfile();
  auto spec = minimalSpec();
  spec.seccomp = "unconfined";
  EXPECT_FALSE(build(spec).at("linux").contains("seccomp"));
}

TEST_F(SpecBuilderTest, SeccompPathLoadsThatProfile) {
  options_.seccomp_profile = conditionalProfile();
  std::ofstream(root_ / "own.json") << R"({"defaultAction": "SCMP_ACT_KILL_PROCESS",
      "syscalls": [{"names": ["write", "no_such_call"], "action": "SCMP_ACT_ALLOW"}]})";
  auto spec = minimalSpec();
  spec.seccomp = (root_ / "own.json").string();
  const json seccomp = build(spec).at("linux").at("seccomp");
  EXPECT_EQ(seccomp.at("defaultAction"), "SCMP_ACT_KILL_PROCESS");
  EXPECT_EQ(seccomp.at("syscalls"),
            json::array({{{"names", {"write"}}, {"action", "SCMP_ACT_ALLOW"}}}));
}

TEST_F(SpecBuilderTest, BadSeccompProfileIsAnErrorNamingTheField) {
  std::ofstream(root_ / "broken.json") << R"({"defaultAction": "SCMP_ACT_ERRNO", )";
  std::ofstream(root_ / "wrong.json") << R"({"defaultAction": "SCMP_ACT_MAYBE"})";
  for (const auto& [file, cause] :
       std::vector<std::pair<std::string, std::string>>{
           {"broken.json", "syntax error"},
           {"wrong.json", "/defaultAction: unknown action"},
           {"missing.json", "No such file or directory"}}) {
    auto spec = minimalSpec();
    spec.seccomp = (root_ / file).string();
    auto oci = buildRuntimeSpec(checked(spec, "zos"), options_);
    ASSERT_FALSE(oci.ok()) << file;
    EXPECT_EQ(oci.error().code, Code::kInvalidArgument);
    EXPECT_EQ(oci.error().message.rfind("seccomp: seccomp profile '" + spec.seccomp + "'", 0), 0u)
        << oci.error().message;
    EXPECT_NE(oci.error().message.find(cause), std::string::npos) << oci.error().message;
  }
}

TEST_F(SpecBuilderTest, ReadonlyRootfs) {
  auto spec = minimalSpec();
  EXPECT_EQ(build(spec).at("root").at("readonly"), false);
  spec.readonly_rootfs = true;
  EXPECT_EQ(build(spec).at("root").at("readonly"), true);
}

TEST_F(SpecBuilderTest, CapabilitySetIsTheDocumentedOne) {
  EXPECT_EQ(capabilitySet(false), kDefaultCaps);
  Strings elevated = kDefaultCaps;
  elevated.push_back("CAP_SYS_ADMIN");
  EXPECT_EQ(capabilitySet(true), elevated);
}

TEST_F(SpecBuilderTest, RootfsPropagationOnlyWhenGiven) {
  auto spec = minimalSpec();
  EXPECT_FALSE(build(spec).at("linux").contains("rootfsPropagation"));
  spec.rootfs_propagation = "rslave";
  EXPECT_EQ(build(spec).at("linux").at("rootfsPropagation"), "rslave");
}

TEST_F(SpecBuilderTest, HostnameDefaultsToTheName) {
  auto spec = minimalSpec();
  EXPECT_EQ(build(spec).at("hostname"), "web");
  spec.hostname = "frontend";
  EXPECT_EQ(build(spec).at("hostname"), "frontend");
}

TEST_F(SpecBuilderTest, AnnotationsCarryTheRequestAndShutdownTimeout) {
  auto spec = minimalSpec();
  spec.shutdown_timeout = std::chrono::milliseconds(7500);
  spec.tags = {"a", "b"};
  spec.mounts = {{"/srv/data", "/data", true}};
  const json annotations = build(spec).at("annotations");
  EXPECT_EQ(annotations.at(kShutdownTimeoutAnnotation), "7500");
  // OCI annotations are strings; the request is stored as JSON text and reads back equal.
  ASSERT_TRUE(annotations.at(kSpecAnnotation).is_string());
  auto stored = specFromJson(json::parse(annotations.at(kSpecAnnotation).get<std::string>()));
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(*stored, spec);
}

TEST_F(SpecBuilderTest, FullSpecMatchesGoldenFile) {
  ContainerSpec spec;
  spec.name = "web-1";
  spec.rootfs = "/var/cache/contd/rootfs/web-1";
  spec.entrypoint = "/usr/sbin/nginx -g 'daemon off;'";
  spec.env = {"LANG=C.UTF-8", "GREETING=hello world"};
  spec.working_dir = "/srv/www";
  spec.network_namespace = "ndmz";
  spec.mounts = {{"/mnt/data/web", "/srv/www", false}, {"/etc/ssl/certs", "/etc/ssl/certs", true}};
  spec.cpu = 2;
  spec.memory_bytes = 256ULL << 20;
  spec.pids_limit = 512;
  spec.restart = RestartMode::kAlways;  // as validation resolves it
  spec.hostname = "web";
  spec.tags = {"frontend"};
  spec.elevated = true;
  spec.rootfs_propagation = "rprivate";
  spec.shutdown_timeout = std::chrono::milliseconds(10000);
  options_.seccomp_profile = json{{"defaultAction", "SCMP_ACT_ERRNO"},
                                  {"architectures", {"SCMP_ARCH_X86_64"}},
                                  {"syscalls", json::array()}};
  json actual = build(spec, "zos");
  // The resolv.conf source is a temp file; the golden file names the usual one.
  for (auto& m : actual.at("mounts")) {
    if (m.at("destination") == "/etc/resolv.conf") {
      m["source"] = "/etc/resolv.conf";
    }
  }

  std::ifstream in(goldenPath("full.json"));
  ASSERT_TRUE(in.good()) << "cannot read " << goldenPath("full.json");
  const json golden = json::parse(in);
  // The stored request is compared parsed, so its key order cannot matter.
  ASSERT_TRUE(actual.at("annotations").at(kSpecAnnotation).is_string());
  EXPECT_EQ(json::parse(actual.at("annotations").at(kSpecAnnotation).get<std::string>()),
            json::parse(golden.at("annotations").at(kSpecAnnotation).get<std::string>()));
  actual["annotations"].erase(kSpecAnnotation);
  json expected = golden;
  expected["annotations"].erase(kSpecAnnotation);
  EXPECT_EQ(actual, expected) << "actual:\n" << actual.dump(2);
}

}  // namespace
}  // namespace contd::container
