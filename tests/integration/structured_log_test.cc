// contd's own log in structured form, on real parts (the build's contd on a private
// containerd, runc, contctl):
// - log_format "json" (--log-format json): every line of contd's stderr is one JSON object
//   with time, level, logger, msg and the line's fields; a Run's call line carries op, ns,
//   id and code. This is the test CI runs.
// - the journal: a real systemd-journald of the test's own, in a private mount namespace;
//   contd started with JOURNAL_STREAM naming its stderr sends natively, and journalctl
//   finds the Run's line by its fields.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with
// CI=true).

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
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

class StructuredLogIT : public support::DaemonFixture {
protected:
  StructuredLogIT() : DaemonFixture({.ns_prefix = "slog", .dir_prefix = "contd-slog"}) {}
  explicit StructuredLogIT(support::DaemonFixtureOptions options)
      : DaemonFixture(std::move(options)) {}

  std::vector<std::string> runArgs(const std::string& name) const {
    return {"run", ns_, name, "--rootfs", rootfs_->path().string(), "--netns", netns_->name(),
            "--", "/bin/sleep", "1000"};
  }

  // Every line of contd's log, parsed; fails the test on a line that is not a JSON object.
  std::vector<nlohmann::json> jsonLines(const std::filesystem::path& log) {
    std::ifstream in(log);
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) {
      auto parsed = nlohmann::json::parse(line, nullptr, false);
      EXPECT_TRUE(parsed.is_object()) << "not a JSON object: " << line;
      if (parsed.is_object()) {
        lines.push_back(std::move(parsed));
      }
    }
    return lines;
  }

  // The journal's entries of contd process `pid` (journalctl -o json), waited for until one
  // has OP=Run, for up to 10 s.
  std::vector<nlohmann::json> journalOf(pid_t pid) {
    std::vector<nlohmann::json> entries;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         std::chrono::steady_clock::now() < until;) {
      auto out = support::runCommand({"journalctl", "--no-pager", "-o", "json",
                                      "_PID=" + std::to_string(pid)});
      entries.clear();
      std::istringstream in(out ? out->out : "");
      bool run = false;
      for (std::string line; std::getline(in, line);) {
        entries.push_back(nlohmann::json::parse(line, nullptr, false));
        run = run || (entries.back().is_object() && entries.back().value("OP", "") == "Run");
      }
      if (run) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return entries;
  }
};

// The journal of StructuredJournalIT: in a mount namespace of the test process's own
// (entered before any thread exists: the suite's first step), tmpfs over journald's folders,
// and systemd-journald started there. Everything the test starts afterwards (containerd,
// contd, journalctl) shares that namespace; the machine's /run and /var/log are untouched.
class PrivateJournal {
public:
  static constexpr char kJournald[] = "/lib/systemd/systemd-journald";

  // "" when journald runs, else what failed.
  std::string start() {
    if (::unshare(CLONE_NEWNS) != 0) {
      return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      return std::string("make / private: ") + std::strerror(errno);
    }
    for (const char* folder : {"/run/systemd", "/run/log", "/var/log/journal"}) {
      std::filesystem::create_directories(folder);
      if (::mount("tmpfs", folder, "tmpfs", 0, "mode=0755") != 0) {
        return std::string("mount tmpfs on ") + folder + ": " + std::strerror(errno);
      }
    }
    std::filesystem::create_directories("/run/systemd/journal");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(kJournald, kJournald, nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 100; ++i) {
      if (std::filesystem::exists("/run/systemd/journal/socket")) {
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "systemd-journald made no socket in 5 s";
  }

  ~PrivateJournal() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

private:
  pid_t pid_ = -1;
};

class StructuredJournalIT : public StructuredLogIT {
protected:
  StructuredJournalIT() : StructuredLogIT({.ns_prefix = "sjrn", .dir_prefix = "contd-sjrn"}) {}

  static void SetUpTestSuite() {
    if (::access(PrivateJournal::kJournald, X_OK) == 0) {
      journal_ = std::make_unique<PrivateJournal>();
      journal_error_ = journal_->start();
    }
    DaemonFixture::SetUpTestSuite();
  }
  static void TearDownTestSuite() {
    DaemonFixture::TearDownTestSuite();
    journal_.reset();
  }

  std::string missingPrerequisites() const override {
    std::string missing = DaemonFixture::missingPrerequisites();
    if (missing.empty() && ::access(PrivateJournal::kJournald, X_OK) != 0) {
      missing = std::string(PrivateJournal::kJournald) + " (package systemd) is missing";
    }
    return missing;
  }

  void SetUp() override {
    StructuredLogIT::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    ASSERT_EQ(journal_error_, "");
  }

  static inline std::unique_ptr<PrivateJournal> journal_;
  static inline std::string journal_error_;
};

TEST_F(StructuredLogIT, JsonLinesCarryTheFieldsOfEachLine) {
  ASSERT_NO_FATAL_FAILURE(startDaemon({"--log-format", "json"}));
  ASSERT_EQ(contctl(runArgs("web")).exit_code, 0);
  ASSERT_EQ(contctl({"rm", ns_, "web"}).exit_code, 0);
  ASSERT_TRUE(daemon_->stop());

  const auto lines = jsonLines(dir_->path() / "contd.log");
  ASSERT_GT(lines.size(), 5U);
  bool run = false;
  bool started = false;
  for (const auto& line : lines) {
    for (const char* key : {"time", "level", "logger", "msg"}) {
      ASSERT_TRUE(line.contains(key) && line[key].is_string()) << key << " in " << line.dump();
    }
    EXPECT_EQ(line["time"].get<std::string>().size(), 27U) << line.dump();  // ...T..:..:..uuuuuuZ
    if (line.value("op", "") == "Run") {
      run = true;
      EXPECT_EQ(line["logger"], "api") << line.dump();
      EXPECT_EQ(line["level"], "info") << line.dump();
      EXPECT_EQ(line["ns"], ns_) << line.dump();
      EXPECT_EQ(line["id"], "web") << line.dump();
      EXPECT_EQ(line["code"], "OK") << line.dump();
      EXPECT_EQ(line["msg"].get<std::string>().rfind("call op=Run ns=" + ns_ + " id=web ", 0), 0U)
          << line.dump();
    }
    if (line["msg"].get<std::string>().rfind("started ", 0) == 0 && line.value("id", "") == "web") {
      started = true;
      EXPECT_EQ(line["logger"], "container") << line.dump();
      EXPECT_FALSE(line.value("pid", "").empty()) << line.dump();
    }
  }
  EXPECT_TRUE(run) << "no line with op=Run";
  EXPECT_TRUE(started) << "no 'started' line of web";

}

// contd under journald: a real systemd-journald of this test's own (in a private mount
// namespace, so the machine's journal, if any, is not touched), contd started with
// JOURNAL_STREAM naming its stderr as systemd does, and journalctl finding the Run's line
// by its native fields.
TEST_F(StructuredJournalIT, JournalEntriesCarryTheFieldsNatively) {
  const auto stderr_log = dir_->path() / "journal" / "contd.log";
  std::filesystem::create_directories(stderr_log.parent_path());
  std::ofstream(stderr_log).close();
  struct stat st {};
  ASSERT_EQ(::stat(stderr_log.c_str(), &st), 0);
  ::setenv("JOURNAL_STREAM",
           (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
  startDaemon({}, stderr_log.parent_path());
  ::unsetenv("JOURNAL_STREAM");
  ASSERT_TRUE(daemon_);
  ASSERT_EQ(contctl(runArgs("db")).exit_code, 0);
  const pid_t pid = daemon_->pid();
  const auto entries = journalOf(pid);
  bool found = false;
  for (const auto& entry : entries) {
    if (entry.is_object() && entry.value("OP", "") == "Run") {
      found = true;
      EXPECT_EQ(entry.value("NAMESPACE", ""), ns_) << entry.dump();
      EXPECT_EQ(entry.value("CONTAINER", ""), "db") << entry.dump();
      EXPECT_EQ(entry.value("CODE", ""), "OK") << entry.dump();
      EXPECT_EQ(entry.value("PRIORITY", ""), "6") << entry.dump();
      EXPECT_EQ(entry.value("SYSLOG_IDENTIFIER", ""), "contd") << entry.dump();
    }
  }
  EXPECT_TRUE(found) << "journalctl _PID=" << pid << " has no entry with OP=Run";
  ASSERT_EQ(contctl({"rm", ns_, "db"}).exit_code, 0);
}

}  // namespace
}  // namespace contd
