// ProcShimHost over a /proc tree made in a temp dir: which shims and log drivers it counts
// as this contd's (proc_shim_host.h). Nothing is killed: only the finding is tested here;
// ending them is tested on real parts (FaultsIT).

#include "modules/container/proc_shim_host.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

namespace fs = std::filesystem;

constexpr char kLogShim[] = "/usr/libexec/contd/contd-shim-logs";
constexpr char kRuncShim[] = "/usr/bin/containerd-shim-runc-v2";

class ProcShimHostTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("contd-proc-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()
                                             ->current_test_info()
                                             ->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "proc");
  }
  void TearDown() override { fs::remove_all(root_); }

  // /proc/<pid> with its exe link, NUL-ended cmdline and environ, and a stat line.
  void process(int pid, int parent, const std::string& exe, const std::vector<std::string>& argv,
               const std::vector<std::string>& env = {}) {
    const fs::path dir = root_ / "proc" / std::to_string(pid);
    fs::create_directories(dir);
    fs::create_symlink(exe, dir / "exe");
    write(dir / "cmdline", argv);
    write(dir / "environ", env);
    std::ofstream(dir / "stat") << pid << " (" << fs::path(exe).filename().string() << ") S "
                                << parent << " 1 1 0 -1\n";
  }

  // A holder (`pid`) under `parent` and its writer (`pid + 1`) writing under `log_root`.
  void driver(int pid, int parent, const std::string& log_root, const std::string& id) {
    const std::vector<std::string> argv = {kLogShim, "log_root", log_root, "max_size", "1024"};
    const std::vector<std::string> env = {"PATH=/bin", "CONTAINER_NAMESPACE=ns1",
                                          "CONTAINER_ID=" + id};
    process(pid, parent, kLogShim, argv, env);
    process(pid + 1, pid, kLogShim, argv, env);
  }

  void shim(int pid, const std::string& address, const std::string& id) {
    process(pid, 1, kRuncShim,
            {kRuncShim, "-namespace", "ns1", "-id", id, "-address", address});
  }

  static void write(const fs::path& file, const std::vector<std::string>& strings) {
    std::ofstream out(file, std::ios::binary);
    for (const auto& s : strings) {
      out << s << '\0';
    }
  }

  std::vector<pid_t> loggerPids(ProcShimHost& host) {
    std::vector<pid_t> pids;
    for (const auto& logger : host.loggers()) {
      pids.push_back(logger.pid);
    }
    std::sort(pids.begin(), pids.end());
    return pids;
  }

  fs::path root_;
};

TEST_F(ProcShimHostTest, ShimsOfOtherContainerdsAreNotCounted) {
  shim(100, "/run/ours/containerd.sock", "a");
  shim(200, "/run/theirs/containerd.sock", "b");
  process(300, 1, "/bin/sleep", {"/bin/sleep", "-namespace", "ns1", "-id", "c"});
  ProcShimHost host("/run/ours/containerd.sock", kLogShim, "/var/log/ours", root_ / "proc");
  const auto shims = host.shims();
  ASSERT_EQ(shims.size(), 1u);
  EXPECT_EQ(shims[0].pid, 100);
  EXPECT_EQ(shims[0].ns, "ns1");
  EXPECT_EQ(shims[0].id, "a");
}

// containerd 1.6 writes config.json last and not atomically (os.WriteFile): killed while
// writing it, it leaves the file empty or cut short. Only a whole document counts as
// written, so such a bundle is treated like one without config.json (never had a task).
TEST_F(ProcShimHostTest, AConfigCutShortCountsAsNotWrittenAndOnlyContdsMarkIsContds) {
  const std::vector<std::pair<std::string, std::string>> configs = {
      {"whole-contds", R"({"ociVersion":"1.0.2","annotations":{"io.contd.container":"{}"}})"},
      {"whole-foreign", R"({"ociVersion":"1.0.2","annotations":{"other":"x"}})"},
      {"cut-short", R"({"ociVersion":"1.0.2","annotations":{"io.contd.cont)"},
      {"empty", ""},
      {"missing", "-"},
  };
  int pid = 100;
  for (const auto& [id, text] : configs) {
    const fs::path bundle = root_ / "bundles" / id;
    fs::create_directories(bundle);
    if (text != "-") {
      std::ofstream(bundle / "config.json") << text;
    }
    shim(pid, "/run/ours/containerd.sock", id);
    fs::create_symlink(bundle, root_ / "proc" / std::to_string(pid) / "cwd");
    pid += 100;
  }
  ProcShimHost host("/run/ours/containerd.sock", kLogShim, "/var/log/ours", root_ / "proc");
  std::map<std::string, std::pair<bool, bool>> seen;  // id: made_by_contd, has_config
  for (const auto& found : host.shims()) {
    seen[found.id] = {found.made_by_contd, found.has_config};
  }
  EXPECT_EQ(seen["whole-contds"], std::make_pair(true, true));
  EXPECT_EQ(seen["whole-foreign"], std::make_pair(false, true));
  EXPECT_EQ(seen["cut-short"], std::make_pair(false, false));
  EXPECT_EQ(seen["empty"], std::make_pair(false, false));
  EXPECT_EQ(seen["missing"], std::make_pair(false, false));
}

// A grouped shim (shim_group "namespace") names only the first container it was started
// for; while it runs the processes of others it is theirs too and never an orphan.
TEST_F(ProcShimHostTest, AShimRunningAnotherContainersProcessesServesOthers) {
  const auto child = [&](int pid, int parent, const std::string& exe, const std::string& cgroup) {
    process(pid, parent, exe, {exe});
    std::ofstream(root_ / "proc" / std::to_string(pid) / "cgroup")
        << "12:pids:" << cgroup << "\n11:memory:" << cgroup << "\n0::/\n";
  };
  shim(100, "/run/ours/containerd.sock", "a");  // its own init and log driver only
  child(101, 100, "/bin/busybox", "/ns1/a");
  child(102, 100, kLogShim, "/system.slice/containerd.service");
  shim(200, "/run/ours/containerd.sock", "b");  // runs c's process: a group's shim
  child(201, 200, "/bin/busybox", "/ns1/c");
  shim(300, "/run/ours/containerd.sock", "d");  // a runc create of another container
  child(301, 300, "/usr/sbin/runc", "/system.slice/containerd.service");
  shim(400, "/run/ours/containerd.sock", "e");  // its own `runc init`, waiting for start
  child(401, 400, "/usr/sbin/runc", "/ns1/e");
  shim(500, "/run/ours/containerd.sock", "f");  // a process of another namespace's "f"
  child(501, 500, "/bin/busybox", "/ns2/f");
  ProcShimHost host("/run/ours/containerd.sock", kLogShim, "/var/log/ours", root_ / "proc");
  std::map<std::string, bool> serves;
  for (const auto& found : host.shims()) {
    serves[found.id] = found.serves_others;
  }
  EXPECT_EQ(serves, (std::map<std::string, bool>{
                        {"a", false}, {"b", true}, {"d", true}, {"e", false}, {"f", false}}));
}

TEST_F(ProcShimHostTest, DriversAreThoseWritingUnderThisContdsLogRoot) {
  shim(100, "/run/ours/containerd.sock", "a");
  shim(200, "/run/theirs/containerd.sock", "b");
  driver(110, 100, "/var/log/ours", "a");      // under our shim
  driver(210, 200, "/var/log/theirs", "b");    // under the other contd's shim
  driver(310, 1, "/var/log/ours/", "orphan");  // shim gone, our log root (trailing slash)
  driver(410, 1, "/var/log/theirs", "gone");   // shim gone, the other contd's log root
  ProcShimHost host("/run/ours/containerd.sock", kLogShim, "/var/log/ours", root_ / "proc");
  EXPECT_EQ(loggerPids(host), (std::vector<pid_t>{110, 111, 310, 311}));
  for (const auto& logger : host.loggers()) {
    EXPECT_EQ(logger.ns, "ns1");
    EXPECT_EQ(logger.log_root, logger.pid < 300 ? "/var/log/ours" : "/var/log/ours/");
  }
}

TEST_F(ProcShimHostTest, ADriverOfOurLogRootUnderAnotherContainerdsShimIsNotOurs) {
  // Two daemons sharing one log root (a misconfiguration): the shim still tells them apart.
  shim(200, "/run/theirs/containerd.sock", "b");
  driver(210, 200, "/var/log/ours", "b");
  ProcShimHost host("/run/ours/containerd.sock", kLogShim, "/var/log/ours", root_ / "proc");
  EXPECT_TRUE(host.loggers().empty());
}

TEST_F(ProcShimHostTest, ProcessesWithoutTheContainersIdentityAreNotDrivers) {
  process(500, 1, kLogShim, {kLogShim, "log_root", "/var/log/ours"}, {"PATH=/bin"});
  ProcShimHost host("/run/ours/containerd.sock", kLogShim, "/var/log/ours", root_ / "proc");
  EXPECT_TRUE(host.loggers().empty());
}

}  // namespace
}  // namespace contd::container
