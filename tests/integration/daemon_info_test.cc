// contctl version and contctl info on real parts: the build's contd on a private containerd
// with runc. The versions must be those the programs themselves print (`containerd
// --version`, `runc --version`, `contd --version`), the counts those of what runs, and the
// config the one contd was given.
//
// Needs root, containerd, runc, ctr, ip and busybox-static; skips without them (fails with
// CI=true).

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/support/daemon_fixture.h"

namespace contd {
namespace {

namespace support = ::contd::testing;

// The words of `text`, split at blanks and newlines.
std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) {
    out.push_back(word);
  }
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

// The n-th word (from 0) of a program's own --version output.
std::string versionWord(const std::vector<std::string>& argv, std::size_t n) {
  auto out = support::runChecked(argv);
  EXPECT_TRUE(out) << out.error().message;
  const auto all = out ? words(*out) : std::vector<std::string>{};
  return all.size() > n ? all[n] : "";
}

class DaemonInfoIT : public support::DaemonFixture {
protected:
  DaemonInfoIT() : DaemonFixture({.ns_prefix = "dinfo", .dir_prefix = "contd-dinfo"}) {}

  std::string missingPrerequisites() const override {
    auto missing = DaemonFixture::missingPrerequisites();
    if (missing.empty() && !support::runCommand({"ctr", "--version"})) {
      missing = "ctr (containerd's CLI) is not installed";
    }
    return missing;
  }

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    config_ = dir_->path() / "contd.json";
    std::ofstream(config_) << R"({"runtime": "runc", "log_max_size": 2097152,
                                 "status_interval_ms": 200, "mount_sources": ["/srv", "/tmp"]})";
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--config", config_.string()}));
  }

  // Images in the private containerd, every namespace, as ctr lists them.
  int ctrImageCount() {
    const std::string address = containerd_->socketPath();
    auto namespaces = support::runChecked({"ctr", "--address", address, "namespaces", "ls", "-q"});
    EXPECT_TRUE(namespaces) << namespaces.error().message;
    int count = 0;
    for (const auto& ns : namespaces ? words(*namespaces) : std::vector<std::string>{}) {
      auto images =
          support::runChecked({"ctr", "--address", address, "-n", ns, "images", "ls", "-q"});
      EXPECT_TRUE(images) << images.error().message;
      count += images ? static_cast<int>(words(*images).size()) : 0;
    }
    return count;
  }

  std::filesystem::path config_;
};

TEST_F(DaemonInfoIT, VersionReportsWhatTheProgramsThemselvesPrint) {
  // "contd 0.1.0", "containerd github.com/containerd/containerd 1.6.20~ds1 REVISION",
  // "runc version 1.1.5+ds1".
  const std::string contd_version = versionWord({CONTD_BIN, "--version"}, 1);
  const std::string containerd_version = versionWord({"containerd", "--version"}, 2);
  const std::string containerd_revision = versionWord({"containerd", "--version"}, 3);
  const std::string runc_version = versionWord({"runc", "--version"}, 2);
  ASSERT_FALSE(contd_version.empty());
  ASSERT_FALSE(containerd_version.empty());
  ASSERT_FALSE(runc_version.empty());

  auto human = contctl({"version"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  const auto printed = lines(human.out);
  ASSERT_EQ(printed.size(), 4U) << human.out;
  EXPECT_EQ(printed[0], "contctl " + contd_version);
  EXPECT_EQ(printed[1], "contd " + contd_version);
  EXPECT_EQ(printed[2], "containerd " + containerd_version + " (revision " +
                            containerd_revision + ")");
  EXPECT_EQ(printed[3], "runtime runc " + runc_version);

  auto json = contctl({"--json", "version"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto version = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(version.is_object()) << json.out;
  EXPECT_EQ(version["contctl"], contd_version) << json.out;
  EXPECT_EQ(version["version"], contd_version) << json.out;
  EXPECT_EQ(version["containerd_version"], containerd_version) << json.out;
  EXPECT_EQ(version["containerd_revision"], containerd_revision) << json.out;
  EXPECT_EQ(version["runtime"], "runc") << json.out;
  EXPECT_EQ(version["runtime_version"], runc_version) << json.out;
  EXPECT_EQ(version["shim_group"], "none") << json.out;

  // No daemon there: the first line all the same, then one line of error, exit 1.
  auto away = support::runContctl((dir_->path() / "nothing.sock").string(), {"version"});
  EXPECT_EQ(away.exit_code, 1);
  EXPECT_EQ(away.out, "contctl " + contd_version + "\n");
  EXPECT_EQ(lines(away.err).size(), 1U) << away.err;
  EXPECT_NE(away.err.find("cannot reach contd"), std::string::npos) << away.err;
  auto away_json =
      support::runContctl((dir_->path() / "nothing.sock").string(), {"--json", "version"});
  EXPECT_EQ(away_json.exit_code, 1);
  const auto alone = nlohmann::json::parse(away_json.out, nullptr, false);
  EXPECT_EQ(alone, nlohmann::json({{"contctl", contd_version}})) << away_json.out;
}

TEST_F(DaemonInfoIT, InfoCountsWhatRunsAndShowsTheConfigInEffect) {
  auto run = contctl({"run", ns_, "web", "--rootfs", rootfs_->path().string(), "--netns",
                      netns_->name(), "--", "/bin/sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;

  auto json = contctl({"--json", "info"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto info = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(info.is_object()) << json.out;
  EXPECT_EQ(info["containers"]["total"], 1) << json.out;
  EXPECT_EQ(info["containers"]["running"], 1) << json.out;
  EXPECT_EQ(info["containers"]["stopped"], 0) << json.out;
  EXPECT_EQ(info["namespaces"], 1) << json.out;
  EXPECT_EQ(info["images"], ctrImageCount()) << json.out;
  EXPECT_EQ(info["version"]["runtime"], "runc") << json.out;

  // The config in effect: the file's values, the flags' values, the defaults of the rest.
  const auto config = nlohmann::json::parse(info["config_json"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(config.is_object()) << json.out;
  EXPECT_EQ(config["log_max_size"], 2097152) << config.dump();
  EXPECT_EQ(config["status_interval_ms"], 200) << config.dump();
  EXPECT_EQ(config["mount_sources"], nlohmann::json::array({"/srv", "/tmp"})) << config.dump();
  EXPECT_EQ(config["containerd_socket"], containerd_->socketPath()) << config.dump();
  EXPECT_EQ(config["listen"], daemon_->socketPath()) << config.dump();
  EXPECT_EQ(config["log_max_files"], 3) << config.dump();
  EXPECT_EQ(config["shim_group"], "none") << config.dump();

  auto format = contctl({"info", "--format", "{{.Running}}/{{.Containers}} {{.Runtime}}"});
  ASSERT_EQ(format.exit_code, 0) << format.err;
  EXPECT_EQ(format.out, "1/1 runc\n");

  auto human = contctl({"info"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("Containers:  1 (running 1,"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("  log_max_size: 2097152\n"), std::string::npos) << human.out;

  ASSERT_EQ(contctl({"rm", ns_, "web"}).exit_code, 0);
}

TEST_F(DaemonInfoIT, VersionAnswersWhileContainerdIsDownAndInfoSaysUnavailable) {
  // contd accepts calls a moment before it is ready; containerd going away before that
  // stops contd's start. Wait for "ready".
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       daemon_->logLines("ready socket=").empty() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(daemon_->logLines("ready socket=").empty()) << daemon_->logTail();
  ASSERT_TRUE(containerd_->stop());
  auto version = contctl({"--json", "version"});
  ASSERT_EQ(version.exit_code, 0) << version.err;
  const auto answer = nlohmann::json::parse(version.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << version.out;
  EXPECT_EQ(answer["containerd_version"], "") << version.out;
  EXPECT_NE(answer["containerd_error"], "") << version.out;
  EXPECT_FALSE(answer["version"].get<std::string>().empty()) << version.out;

  auto info = contctl({"info"});
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_NE(info.err.find("UNAVAILABLE"), std::string::npos) << info.err;
  ASSERT_TRUE(containerd_->restart());
}

}  // namespace
}  // namespace contd
