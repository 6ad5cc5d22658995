#include "modules/container/validation.h"
#include "tests/fakes/fake_host.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "modules/common/printable.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class ValidationTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "contd-validation-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    testing::makeFakeHost(root_);
    fs::create_directories(root_ / "data");
    std::ofstream(root_ / "file") << "x";
    env_ = testing::fakeHostValidationEnv(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  ContainerSpec validSpec() const {
    ContainerSpec spec;
    spec.name = "web";
    spec.rootfs = (root_ / "rootfs").string();
    spec.entrypoint = "/bin/sh -c 'sleep 1000'";
    spec.network_namespace = "net1";
    return spec;
  }

  // Every field set to an accepted value.
  ContainerSpec fullSpec() const {
    ContainerSpec spec = validSpec();
    spec.argv = {"/bin/sleep", "1000"};
    spec.env = {"A=1", "B=", "C=x=y"};
    spec.working_dir = "/srv";
    spec.mounts = {{(root_ / "data").string(), "/data", false},
                   {(root_ / "file").string(), "/etc/app.conf", true}};
    spec.interactive = true;
    spec.cpu = 2;
    spec.memory_bytes = 256ULL << 20;
    spec.pids_limit = 100;
    spec.hostname = "web-1.example";
    spec.tags = {"zos", std::string(256, 't')};
    spec.elevated = true;
    spec.rootfs_propagation = "rslave";
    spec.shutdown_timeout = milliseconds(10000);
    spec.seccomp = (root_ / "file").string();
    spec.readonly_rootfs = true;
    spec.user = "app:staff";
    return spec;
  }

  void expectRefused(const ContainerSpec& spec, const std::string& field) const {
    auto status = validateSpec("zos", spec, env_);
    ASSERT_FALSE(status.ok()) << "accepted bad " << field;
    EXPECT_EQ(status.error().code, Code::kInvalidArgument);
    EXPECT_EQ(status.error().message.rfind(field + ": ", 0), 0u)
        << "error does not name " << field << ": " << status.error().message;
  }

  void expectAccepted(const ContainerSpec& spec) const {
    auto status = validateSpec("zos", spec, env_);
    EXPECT_TRUE(status.ok()) << status.error().message;
  }

  fs::path root_;
  ValidationEnv env_;
};

TEST_F(ValidationTest, AcceptsMinimalAndFullSpecs) {
  expectAccepted(validSpec());
  expectAccepted(fullSpec());
}

TEST_F(ValidationTest, RefusesBadName) {
  for (const char* name : {"", "a..b", "-a", "a/b", "a b"}) {
    auto spec = validSpec();
    spec.name = name;
    expectRefused(spec, "name");
  }
  auto spec = validSpec();
  spec.name = std::string(65, 'a');
  expectRefused(spec, "name");
  spec.name = "contd-shim-keeper";  // the shim keeper's (shim_keeper.h)
  expectRefused(spec, "name");
}

TEST_F(ValidationTest, RefusesBadRootfs) {
  auto spec = validSpec();
  for (const std::string& rootfs :
       {std::string(), std::string("rootfs"), (root_ / "missing").string(),
        (root_ / "file").string(), std::string("/"), std::string("//"), std::string("/.")}) {
    spec.rootfs = rootfs;
    expectRefused(spec, "rootfs");
  }
  fs::create_directory_symlink("/", root_ / "hostroot");
  spec.rootfs = (root_ / "hostroot").string();
  expectRefused(spec, "rootfs");
}

TEST_F(ValidationTest, ImageReplacesRootfsAndTheCommand) {
  auto spec = validSpec();
  spec.rootfs.clear();
  spec.entrypoint.clear();
  spec.image = "busybox:1";
  // Before the image's config is merged in, only what the image cannot change is checked.
  EXPECT_TRUE(validateImageRequest("zos", spec));
  expectRefused(spec, "entrypoint");  // after the merge, a command is required
  spec.argv = {"/bin/true"};
  expectAccepted(spec);
  spec.rootfs = (root_ / "rootfs").string();
  expectRefused(spec, "image");  // not both
  auto status = validateImageRequest("zos", spec);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message.rfind("image: ", 0), 0u) << status.error().message;
  EXPECT_FALSE(validateImageRequest("a/b", spec));
}

TEST_F(ValidationTest, RefusesBadNamespace) {
  for (const std::string& ns : {std::string(), std::string("a/b"), std::string("../x"),
                                 std::string("a\nb"), std::string(77, 'n')}) {
    auto status = validateSpec(ns, validSpec(), env_);
    ASSERT_FALSE(status.ok()) << ns;
    EXPECT_EQ(status.error().message.rfind("namespace: ", 0), 0u) << status.error().message;
  }
}

TEST_F(ValidationTest, RequiresACommand) {
  auto spec = validSpec();
  spec.entrypoint.clear();
  expectRefused(spec, "entrypoint");
  spec.argv = {"/bin/true"};
  expectAccepted(spec);
}

TEST_F(ValidationTest, RefusesEntrypointThatDoesNotSplit) {
  auto spec = validSpec();
  for (const char* entrypoint : {"sh -c 'x", "sh \"x", "sh x\\", "  ", "'' x"}) {
    spec.entrypoint = entrypoint;
    expectRefused(spec, "entrypoint");
  }
  // Checked even when argv is given, since it is stored and shown back.
  spec.argv = {"/bin/true"};
  spec.entrypoint = "'unterminated";
  expectRefused(spec, "entrypoint");
}

TEST_F(ValidationTest, RefusesBadArgv) {
  auto spec = validSpec();
  spec.argv = {"", "x"};
  expectRefused(spec, "argv[0]");
  spec.argv = {"/bin/echo", std::string("a\0b", 3)};
  expectRefused(spec, "argv[1]");
}

TEST_F(ValidationTest, RefusesBadEnv) {
  auto spec = validSpec();
  spec.env = {"A=1", "NOEQUALS"};
  expectRefused(spec, "env[1]");
  spec.env = {"=value"};
  expectRefused(spec, "env[0]");
  spec.env = {"A=1", "B=2", std::string("C=a\0b", 5)};
  expectRefused(spec, "env[2]");
}

TEST_F(ValidationTest, RefusesRelativeWorkingDir) {
  auto spec = validSpec();
  spec.working_dir = "srv";
  expectRefused(spec, "working_dir");
  spec.working_dir = "/srv";
  expectAccepted(spec);
}

TEST_F(ValidationTest, RequiresAnExistingNetworkNamespace) {
  auto spec = validSpec();
  for (const char* netns : {"", "absent", "a..b", "net1/x", "./net1", "../netns/net1"}) {
    spec.network_namespace = netns;
    expectRefused(spec, "network_namespace");
  }
  spec.network_namespace = (root_ / "netns" / "absent").string();
  expectRefused(spec, "network_namespace");
  spec.network_namespace = (root_ / "netns" / "net1").string();
  expectAccepted(spec);
}

TEST_F(ValidationTest, RefusesBadMountSource) {
  auto spec = validSpec();
  const std::string data = (root_ / "data").string();
  spec.mounts = {{data, "/a", false}, {"data", "/b", false}};
  expectRefused(spec, "mounts[1].source");
  spec.mounts = {{(root_ / "missing").string(), "/a", false}};
  expectRefused(spec, "mounts[0].source");
  spec.mounts = {{"", "/a", false}};
  expectRefused(spec, "mounts[0].source");
}

TEST_F(ValidationTest, RefusesBadMountTarget) {
  auto spec = validSpec();
  const std::string data = (root_ / "data").string();
  for (const char* target :
       {"/", "", "data", "/a/", "/a//b", "//a", "/a/./b", "/a/../b", "/..", "/.", "/a/.."}) {
    spec.mounts = {{data, "/ok", false}, {data, target, false}};
    expectRefused(spec, "mounts[1].target");
  }
  spec.mounts = {{data, "/a", false}, {data, "/a", true}};
  expectRefused(spec, "mounts[1].target");
  spec.mounts = {{data, "/a/..b/.c", false}};
  expectAccepted(spec);
}

TEST_F(ValidationTest, BoundsLimits) {
  auto spec = validSpec();
  spec.cpu = kMaxCpu + 1;
  expectRefused(spec, "cpu");
  spec.cpu = kMaxCpu;
  expectAccepted(spec);

  spec = validSpec();
  spec.memory_bytes = kMinMemoryBytes - 1;
  expectRefused(spec, "memory_bytes");
  spec.memory_bytes = 1ULL << 63;
  expectRefused(spec, "memory_bytes");
  spec.memory_bytes = kMinMemoryBytes;
  expectAccepted(spec);
  spec.memory_bytes = 0;
  expectAccepted(spec);

  spec = validSpec();
  spec.pids_limit = -2;
  expectRefused(spec, "pids_limit");
  spec.pids_limit = -1;
  expectAccepted(spec);
}

TEST_F(ValidationTest, RefusesBadHostname) {
  auto spec = validSpec();
  for (const std::string& hostname :
       {std::string("a_b"), std::string("-a"), std::string("a-"), std::string("a..b"),
        std::string("a."), std::string(".a"), std::string("a b"), std::string(65, 'a'),
        std::string(64, 'a')}) {
    spec.hostname = hostname;
    expectRefused(spec, "hostname");
  }
  // A trailing dot (an absolute FQDN) is refused; 64 characters in short labels pass.
  spec.hostname = std::string(63, 'a') + ".";
  expectRefused(spec, "hostname");
  spec.hostname = std::string(32, 'a') + "." + std::string(31, 'b');
  expectAccepted(spec);
  spec.hostname = "Web-01.node";
  expectAccepted(spec);
}

TEST_F(ValidationTest, RefusesBadTags) {
  auto spec = validSpec();
  spec.tags = {"ok", ""};
  expectRefused(spec, "tags[1]");
  spec.tags = {std::string(257, 't')};
  expectRefused(spec, "tags[0]");
}

TEST_F(ValidationTest, RootfsPropagationFollowsTheRuntimeSpecAndRuncsRecursiveForms) {
  auto spec = validSpec();
  for (const char* mode : {"rbind", "Private", "recursive", "private "}) {
    spec.rootfs_propagation = mode;
    expectRefused(spec, "rootfs_propagation");
  }
  for (const char* mode : {"", "private", "slave", "shared", "unbindable", "rprivate", "rslave",
                           "rshared", "runbindable"}) {
    spec.rootfs_propagation = mode;
    expectAccepted(spec);
  }
}

TEST_F(ValidationTest, BoundsArgumentsAsTheKernelDoes) {
  const std::string longest(kMaxArgStringBytes, 'a');
  const std::string too_long(kMaxArgStringBytes + 1, 'a');
  auto spec = validSpec();
  spec.argv = {"/bin/echo", longest};
  expectAccepted(spec);
  spec.argv = {"/bin/echo", "x", too_long};
  expectRefused(spec, "argv[2]");
  spec = validSpec();
  spec.entrypoint = "/bin/echo " + too_long;
  expectRefused(spec, "entrypoint");
  spec = validSpec();
  spec.env = {"A=1", "B=" + too_long};
  expectRefused(spec, "env[1]");
  // MAX_ARG_STRLEN counts the NUL: a string of exactly 32 pages fails execve with E2BIG.
  spec = validSpec();
  spec.argv = {"/bin/echo", std::string(32 * 4096, 'a')};
  expectRefused(spec, "argv[1]");
  spec = validSpec();
  spec.env = {"B=" + std::string(32 * 4096 - 2, 'b')};
  expectRefused(spec, "env[0]");
}

TEST_F(ValidationTest, BoundsTheNumberOfTagsAndTheWholeSpec) {
  auto spec = validSpec();
  spec.tags.assign(kMaxTags, std::string(kMaxTagLength, 't'));
  expectAccepted(spec);
  spec.tags.push_back("one-more");
  expectRefused(spec, "tags");
  // Each field within its own bound, the whole over kMaxSpecBytes.
  spec = validSpec();
  spec.env.assign(kMaxSpecBytes / 1000 + 1, "V=" + std::string(1000, 'v'));
  expectRefused(spec, "spec");
}

TEST_F(ValidationTest, TheProgramMustBeInTheRootfs) {
  auto spec = validSpec();
  spec.argv = {"/bin/missing"};
  expectRefused(spec, "argv[0]");
  spec.argv = {"sleep", "1"};  // a bare name is looked up in PATH, inside the rootfs
  expectAccepted(spec);
  spec.env = {"PATH=/usr/local/bin"};
  expectRefused(spec, "argv[0]");
  spec.env = {"PATH=/opt:/usr/bin"};
  spec.argv = {"env"};
  expectAccepted(spec);
  spec = validSpec();
  spec.entrypoint = "/usr/bin/missing --flag";
  expectRefused(spec, "entrypoint");
  // Not executable, or a directory: not a program.
  std::ofstream(root_ / "rootfs" / "bin" / "data") << "x";
  spec.entrypoint = "/bin/data";
  expectRefused(spec, "entrypoint");
  spec.entrypoint = "/usr/bin";
  expectRefused(spec, "entrypoint");
  // Relative with a '/': from the working directory.
  spec.entrypoint = "./sleep 1";
  spec.working_dir = "/bin";
  expectAccepted(spec);
  // A symlink resolves inside the rootfs: /bin/host-sh -> /bin/sh is the rootfs's own
  // (exists), /bin/escape -> /../../../../usr/bin/env stays inside and does not exist there.
  fs::create_symlink("/bin/sh", root_ / "rootfs" / "bin" / "host-sh");
  fs::create_symlink("/../../../../../usr/bin/true", root_ / "rootfs" / "bin" / "escape");
  spec = validSpec();
  spec.argv = {"/bin/host-sh"};
  expectAccepted(spec);
  spec.argv = {"/bin/escape"};
  expectRefused(spec, "argv[0]");
}

TEST_F(ValidationTest, RefusesARootfsInTheKernelsFilesystems) {
  auto spec = validSpec();
  for (const char* rootfs : {"/proc", "/sys", "/dev", "/proc/1", "/sys/fs", "/dev/shm"}) {
    spec.rootfs = rootfs;
    expectRefused(spec, "rootfs");
  }
}

TEST_F(ValidationTest, TheNetworkNamespaceMustBeOneTheKernelCallsSo) {
  // The real check, without root: a regular file, another kind of namespace, contd's own
  // network namespace and anything under /proc are refused.
  env_.check_netns = checkJoinableNetns;
  auto spec = validSpec();
  expectRefused(spec, "network_namespace");  // netns/net1 is a regular file here
  for (const char* path : {"/proc/self/ns/net", "/proc/1/ns/net", "/proc/self/ns/uts"}) {
    spec.network_namespace = path;
    expectRefused(spec, "network_namespace");
  }
  // Said as such, also through a symlink: a namespace file in /proc is a magic link that
  // canonical() cannot resolve, and these were once refused as "No such file or directory".
  fs::create_symlink("/proc/self/ns/net", root_ / "link-to-proc");
  for (const std::string& path : {std::string("/proc/self/ns/net"), std::string("/proc/1/ns/net"),
                                  std::string("/proc/thread-self/ns/net"),
                                  (root_ / "link-to-proc").string()}) {
    auto refused = checkJoinableNetns("network_namespace", path);
    ASSERT_FALSE(refused.ok()) << path;
    EXPECT_EQ(refused.error().message, "network_namespace: " + inQuotes(path) +
                                           " is a process's namespace under /proc; give a "
                                           "pre-created one (a name in the netns folder or its "
                                           "path)");
  }
  // Device nodes and fifos are refused by their file system, never opened (opening a
  // watchdog device arms it).
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  for (const std::string& path : {std::string("/dev/null"), (root_ / "fifo").string()}) {
    auto refused = checkJoinableNetns("network_namespace", path);
    ASSERT_FALSE(refused.ok()) << path;
    EXPECT_NE(refused.error().message.find("is not a network namespace"), std::string::npos)
        << refused.error().message;
  }
  auto status = checkJoinableNetns("network_namespace", root_ / "netns" / "net1");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("is not a network namespace"), std::string::npos)
      << status.error().message;
}

TEST_F(ValidationTest, BoundsShutdownTimeout) {
  auto spec = validSpec();
  spec.shutdown_timeout = milliseconds(-1);
  expectRefused(spec, "shutdown_timeout");
  spec.shutdown_timeout = kMaxShutdownTimeout + milliseconds(1);
  expectRefused(spec, "shutdown_timeout");
  spec.shutdown_timeout = kMaxShutdownTimeout;
  expectAccepted(spec);
}

TEST_F(ValidationTest, KeepsTheArgvItResolvedArgvFirst) {
  auto spec = validSpec();
  auto valid = validateSpec("zos", spec, env_);
  ASSERT_TRUE(valid.ok()) << valid.error().message;
  EXPECT_EQ(valid->argv, (std::vector<std::string>{"/bin/sh", "-c", "sleep 1000"}));
  EXPECT_EQ(valid->ns, "zos");
  spec.argv = {"/bin/true", "a b"};
  valid = validateSpec("zos", spec, env_);
  ASSERT_TRUE(valid.ok()) << valid.error().message;
  EXPECT_EQ(valid->argv, spec.argv);
  EXPECT_EQ(valid->spec.entrypoint, spec.entrypoint);  // stored as given
}

TEST_F(ValidationTest, SeccompIsDefaultUnconfinedOrAnExistingProfileFile) {
  for (const std::string value : {"", "default", "unconfined"}) {
    auto spec = validSpec();
    spec.seccomp = value;
    expectAccepted(spec);
  }
  for (const std::string& value :
       {std::string("Default"), std::string("relative/profile.json"),
        (root_ / "no-such.json").string(), (root_ / "data").string(), std::string("/a\0b", 4)}) {
    auto spec = validSpec();
    spec.seccomp = value;
    expectRefused(spec, "seccomp");
  }
}

TEST_F(ValidationTest, UserIsEmptyOrUserColonGroup) {
  for (const std::string value :
       {"", "0", "1000", "1000:1000", "app", "app:staff", "1000:staff", "app:0", "www-data",
        "_svc.1$", "4294967295:4294967295", "0123"}) {
    auto spec = validSpec();
    spec.user = value;
    expectAccepted(spec);
  }
  for (const std::string& value :
       {std::string("a:b:c"), std::string(":"), std::string(":staff"), std::string("app:"),
        std::string("a b"), std::string(" app"), std::string("app\t"), std::string("app\n"),
        std::string("a\0b", 3), std::string("a\x7f"), std::string("4294967296"),
        std::string("1:4294967296"), std::string("99999999999999999999"),
        std::string(257, 'u')}) {
    auto spec = validSpec();
    spec.user = value;
    expectRefused(spec, "user");
  }
  auto spec = validSpec();
  spec.user = std::string(256, 'u');
  expectAccepted(spec);
}

TEST_F(ValidationTest, KeepsTheParsedUser) {
  auto spec = validSpec();
  spec.user = "app:0";
  auto valid = validateSpec("zos", spec, env_);
  ASSERT_TRUE(valid.ok()) << valid.error().message;
  EXPECT_EQ(valid->user.user, "app");
  EXPECT_FALSE(valid->user.uid);
  EXPECT_EQ(valid->user.group, "0");
  EXPECT_EQ(valid->user.gid, 0u);
  EXPECT_TRUE(valid->user.needsFiles());
}

TEST_F(ValidationTest, ResolvesNetnsPath) {
  auto spec = validSpec();
  EXPECT_EQ(validateSpec("zos", spec, env_)->netns_path, root_ / "netns" / "net1");
  spec.network_namespace = (root_ / "file").string();
  EXPECT_EQ(validateSpec("zos", spec, env_)->netns_path, root_ / "file");
}

TEST_F(ValidationTest, TheNodesAllowListBoundsHostFoldersAndElevated) {
  fs::create_directories(root_ / "allowed" / "data");
  fs::create_directories(root_ / "allowed-not" );
  auto spec = fullSpec();
  spec.mounts = {{(root_ / "allowed" / "data").string(), "/data", false}};
  expectAccepted(spec);  // no list: any folder
  env_.mount_sources = {root_ / "allowed", root_ / "rootfs/"};
  expectAccepted(spec);
  spec.mounts.push_back({(root_ / "allowed-not").string(), "/other", false});
  expectRefused(spec, "mounts[1].source");  // a prefix of the name is not a parent
  spec.mounts.pop_back();
  // A symlink inside an allowed folder that leads out of it counts where it leads.
  fs::create_directory_symlink(root_ / "data", root_ / "allowed" / "escape");
  spec.mounts.push_back({(root_ / "allowed" / "escape").string(), "/escape", false});
  expectRefused(spec, "mounts[1].source");
  spec.mounts.pop_back();
  env_.mount_sources = {root_ / "allowed"};
  expectRefused(spec, "rootfs");  // a directory rootfs is a host folder too
  env_.mount_sources = {};
  env_.allow_elevated = false;
  expectRefused(spec, "elevated");
  spec.elevated = false;
  expectAccepted(spec);
}

}  // namespace
}  // namespace contd::container
