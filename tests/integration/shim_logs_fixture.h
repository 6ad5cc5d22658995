#pragma once
// The fixture of the contd-shim-logs tests (shim_logs_test.cc, shim_logs_kill_test.cc) and
// what they share: CRI record parsing, polling, and finding the logger's processes.

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/test_spec.h"

#ifndef CONTD_SHIM_LOGS_BIN
#error "CONTD_SHIM_LOGS_BIN must name the contd-shim-logs executable"
#endif

namespace contd::containerd {

namespace support = ::contd::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline constexpr auto kTaskTimeout = 10s;

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// One parsed CRI record.
struct Record {
  std::string time;
  std::string stream;
  char tag = 0;
  std::string text;
};

// Parses every line of `content`; a malformed line fails the test and is skipped.
inline std::vector<Record> parseRecords(const std::string& content) {
  std::vector<Record> records;
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t nl = content.find('\n', pos);
    EXPECT_NE(nl, std::string::npos) << "last record has no newline";
    if (nl == std::string::npos) {
      break;
    }
    const std::string line = content.substr(pos, nl - pos);
    pos = nl + 1;
    // 2026-11-22T09:46:47.123456789Z stdout F text
    const bool ok = line.size() >= 40 && line[4] == '-' && line[10] == 'T' && line[19] == '.' &&
                    line[29] == 'Z' && line[30] == ' ' &&
                    (line.compare(31, 7, "stdout ") == 0 || line.compare(31, 7, "stderr ") == 0) &&
                    (line[38] == 'F' || line[38] == 'P') && line[39] == ' ';
    EXPECT_TRUE(ok) << "malformed record: '" << line.substr(0, 120) << "'";
    if (ok) {
      records.push_back({line.substr(0, 30), line.substr(31, 6), line[38], line.substr(40)});
    }
  }
  return records;
}

// Texts of the records of `stream`, in file order.
inline std::vector<std::string> texts(const std::vector<Record>& records, std::string_view stream) {
  std::vector<std::string> out;
  for (const Record& r : records) {
    if (r.stream == stream) {
      out.push_back(r.text);
    }
  }
  return out;
}

inline bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

// The pid of the contd-shim-logs holder (the process containerd started) serving ns/id,
// found through /proc (its environment holds exactly the two names; the writer, a fork of
// it, too, but its comm is "contd-logwriter"), or 0.
inline pid_t findLogger(const std::string& ns, const std::string& id) {
  const std::string want_env = "CONTAINER_ID=" + id + std::string(1, '\0') +
                               "CONTAINER_NAMESPACE=" + ns + std::string(1, '\0');
  const fs::path binary = fs::canonical(CONTD_SHIM_LOGS_BIN);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code link_ec;
    if (fs::read_symlink(entry.path() / "exe", link_ec) != binary) {
      continue;
    }
    if (slurp(entry.path() / "environ") != want_env) {
      continue;
    }
    if (slurp(entry.path() / "comm") == "contd-logwriter\n") {
      continue;
    }
    return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

// The holder's writer: its child running the same executable (from
// /proc/<holder>/task/*/children), or 0.
inline pid_t findWriter(pid_t holder) {
  if (holder == 0) {
    return 0;
  }
  const fs::path binary = fs::canonical(CONTD_SHIM_LOGS_BIN);
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(holder) + "/task", ec)) {
    std::istringstream children(slurp(task.path() / "children"));
    pid_t child = 0;
    while (children >> child) {
      std::error_code link_ec;
      if (fs::read_symlink("/proc/" + std::to_string(child) + "/exe", link_ec) == binary) {
        return child;
      }
    }
  }
  return 0;
}

// Kills the whole pipeline, holder first so that nothing starts a new writer.
inline void killPipeline(pid_t holder) {
  const pid_t writer = findWriter(holder);
  ASSERT_NE(writer, 0) << "no writer under holder " << holder;
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  ASSERT_EQ(::kill(writer, SIGKILL), 0);
}

// True while `pid` exists and is not a zombie.
inline bool alive(pid_t pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  return !stat.empty() && stat.find(") Z ") == std::string::npos;
}

class ShimLogsTest : public support::DaemonFixture {
protected:
  ShimLogsTest()
      : DaemonFixture(
            {.ns_prefix = "sl", .dir_prefix = "contd-shimlogs", .create_namespace = true}) {}

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    ASSERT_EQ(::access(CONTD_SHIM_LOGS_BIN, X_OK), 0) << CONTD_SHIM_LOGS_BIN;
    log_root_ = dir_->path() / "logs";
    fs::create_directories(log_root_);
  }

  // After the purge (no logger holds a file any more), before the temp dir goes.
  void beforeRemovingDir() override {
    if (mounted_) {
      auto unmounted = support::runChecked({"umount", log_root_.string()});
      EXPECT_TRUE(unmounted) << unmounted.error().message;
    }
    for (const std::string& marker : markers_) {
      std::error_code ec;
      fs::remove(rootfs_->path() / "tmp" / marker, ec);
    }
  }

  // binary:///abs/contd-shim-logs?log_root=<dir>&max_size=<n>&max_files=<n>
  std::string uri(std::uint64_t max_size, unsigned max_files) const {
    return "binary://" + std::string(CONTD_SHIM_LOGS_BIN) + "?log_root=" + log_root_.string() +
           "&max_size=" + std::to_string(max_size) + "&max_files=" + std::to_string(max_files) +
           uri_extra_;
  }

  fs::path logFile(const std::string& id, std::string_view suffix = "") const {
    return log_root_ / ns_ / (id + ".log" + std::string(suffix));
  }

  // A file under the shared rootfs's /tmp that the container touches and the test polls.
  fs::path marker(const std::string& id, std::string_view what) {
    markers_.push_back(ns_ + "-" + id + "-" + std::string(what));
    return rootfs_->path() / "tmp" / markers_.back();
  }
  std::string inContainer(const fs::path& host_marker) const {
    return "/tmp/" + host_marker.filename().string();
  }

  void run(const std::string& id, const std::string& script, std::uint64_t max_size = 10 << 20,
           unsigned max_files = 3) {
    support::TestSpec spec;
    spec.rootfs = rootfs_->path().string();
    spec.args = {"/bin/sh", "-c", script};
    spec.netns_path = netns_->path();
    spec.cgroups_path = "/" + ns_ + "/" + id;
    ContainerRecord record;
    record.id = id;
    record.spec_json = support::testSpecJson(spec);
    auto created = client_->createContainer(ns_, record);
    ASSERT_TRUE(created) << created.error().message;
    const std::string u = uri(max_size, max_files);
    auto task = client_->createTask(ns_, id, TaskIo{"", u, u}, kTaskTimeout);
    ASSERT_TRUE(task) << task.error().message << "\n" << containerd_->logTail();
    auto started = client_->startTask(ns_, id);
    ASSERT_TRUE(started) << started.error().message;
  }

  // Kills (unless already stopped), waits and deletes the task; returns how long the
  // delete took.
  std::chrono::milliseconds stopAndDelete(const std::string& id) {
    (void)client_->killTask(ns_, id, SIGKILL, /*all=*/true);
    auto exit = client_->waitTask(ns_, id, kTaskTimeout);
    EXPECT_TRUE(exit) << exit.error().message;
    const auto start = Clock::now();
    auto deleted = client_->deleteTask(ns_, id);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    EXPECT_TRUE(deleted) << deleted.error().message;
    return took;
  }

  fs::path log_root_;
  bool mounted_ = false;
  std::vector<std::string> markers_;
  std::string uri_extra_;  // appended to uri(), e.g. "&policy=drop&rate=…"
};

}  // namespace contd::containerd
