// Metrics on real parts: the build's contd on a private containerd with both
// metrics_textfile and metrics_listen; a container is run and deleted with contctl; then
// promtool (package prometheus) checks the textfile and the /metrics body, and a real
// prometheus-node-exporter of the test's own, reading the textfile's folder with its
// textfile collector on a loopback port, serves contd's series with the expected values.
//
// Needs root, containerd, runc, ip, busybox-static, promtool and prometheus-node-exporter;
// skips without them (fails with CI=true). node-exporter is started and stopped by its pid.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "modules/common/unique_fd.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/files.h"

namespace contd {
namespace {

namespace support = ::contd::testing;
using std::chrono::milliseconds;
using Labels = std::map<std::string, std::string>;

// A port on 127.0.0.1 that was free a moment ago.
std::uint16_t freePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

// GET `path` from 127.0.0.1:`port` (HTTP/1.0): the status code and the body; nullopt when
// nothing answers.
std::optional<std::pair<int, std::string>> httpGet(std::uint16_t port, const std::string& path) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return std::nullopt;
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  char buffer[8192];
  pollfd p{fd.get(), POLLIN, 0};
  while (::poll(&p, 1, 10000) > 0) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n <= 0) {
      break;
    }
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  const auto head_end = reply.find("\r\n\r\n");
  if (!reply.starts_with("HTTP/1.") || head_end == std::string::npos || reply.size() < 12) {
    return std::nullopt;
  }
  return std::make_pair(std::stoi(reply.substr(9, 3)), reply.substr(head_end + 4));
}

// The value of the sample `name` whose labels include `labels` (any order, as node-exporter
// sorts them), or nullopt.
std::optional<double> sample(const std::string& text, const std::string& name,
                             const Labels& labels = {}) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("#") || !line.starts_with(name)) {
      continue;
    }
    const std::string rest = line.substr(name.size());
    if (!rest.starts_with("{") && !rest.starts_with(" ")) {
      continue;  // a longer name
    }
    const auto close = rest.starts_with("{") ? rest.find("} ") : 0;
    const std::string label_part = rest.substr(0, close + 1);
    bool all = true;
    for (const auto& [key, value] : labels) {
      all = all && label_part.find(key + "=\"" + value + "\"") != std::string::npos;
    }
    if (all) {
      return std::stod(rest.substr(rest.rfind(' ') + 1));
    }
  }
  return std::nullopt;
}

// `promtool check metrics` on a file (it reads stdin): "" when it passes, else its output.
std::string promtoolProblems(const std::filesystem::path& file) {
  auto result = support::runCommand(
      {"/bin/sh", "-c", "exec promtool check metrics < \"$1\"", "sh", file.string()});
  if (!result) {
    return result.error().message;
  }
  return result->ok() ? "" : "exit " + std::to_string(result->exit_code) + ": " + result->out +
                                 result->err;
}

class MetricsIT : public support::DaemonFixture {
protected:
  MetricsIT() : DaemonFixture({.ns_prefix = "metrics", .dir_prefix = "contd-metrics"}) {}

  std::string missingPrerequisites() const override {
    std::string missing = support::missingContainerdPrerequisites();
    for (const char* tool : {"promtool", "prometheus-node-exporter"}) {
      if (!support::findOnPath(tool)) {
        missing += std::string(missing.empty() ? "" : ", ") + tool +
                   " on PATH (packages prometheus, prometheus-node-exporter)";
      }
    }
    return missing;
  }

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    textfile_dir_ = dir_->path() / "textfile";
    std::filesystem::create_directories(textfile_dir_);
    textfile_ = textfile_dir_ / "contd.prom";
    port_ = freePort();
    ASSERT_NE(port_, 0);
    const auto config = dir_->path() / "contd.json";
    std::ofstream(config) << "{\"metrics_textfile\": \"" << textfile_.string()
                          << "\", \"metrics_listen\": \"127.0.0.1:" << port_
                          << "\", \"log_policy\": \"drop\", \"log_rate_limit\": 1024}\n";
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--config", config.string()}));
  }

  void TearDown() override {
    stopNodeExporter();
    DaemonFixture::TearDown();
  }

  // Starts prometheus-node-exporter with only the textfile collector on the textfile's
  // folder, on a free loopback port; waits until it answers.
  void startNodeExporter() {
    exporter_port_ = freePort();
    ASSERT_NE(exporter_port_, 0);
    const auto log = dir_->path() / "node-exporter.log";
    UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    ASSERT_TRUE(log_fd.valid());
    auto pid = support::spawnProcess(
        {.argv = {"prometheus-node-exporter", "--collector.disable-defaults",
                  "--collector.textfile",
                  "--collector.textfile.directory=" + textfile_dir_.string(),
                  "--web.listen-address=127.0.0.1:" + std::to_string(exporter_port_)},
         .stdout_fd = log_fd.get(),
         .stderr_fd = log_fd.get(),
         .parent_death_signal = SIGTERM});
    ASSERT_TRUE(pid) << pid.error().message;
    exporter_pid_ = *pid;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);;) {
      if (auto reply = httpGet(exporter_port_, "/metrics"); reply && reply->first == 200) {
        return;
      }
      ASSERT_FALSE(support::reapIfExited(exporter_pid_).has_value())
          << "node-exporter exited: " << support::logTail(log, 2048);
      ASSERT_LT(std::chrono::steady_clock::now(), until)
          << "node-exporter does not answer: " << support::logTail(log, 2048);
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  void stopNodeExporter() {
    if (exporter_pid_ > 0) {
      bool killed = false;
      EXPECT_TRUE(support::terminateChild(exporter_pid_, std::chrono::seconds(5), &killed));
      exporter_pid_ = -1;
    }
  }

  std::filesystem::path textfile_dir_;
  std::filesystem::path textfile_;
  std::uint16_t port_ = 0;
  std::uint16_t exporter_port_ = 0;
  pid_t exporter_pid_ = -1;

  // Three Runs (one long-running and removed, one too noisy for its log rate, one exiting
  // with 3), one NOT_FOUND Inspect; returns once both exits and the drops are counted.
  void makeTraffic() {
    auto run = contctl({"run", ns_, "web", "--rootfs", rootfs_->path().string(), "--netns",
                        netns_->name(), "--", "/bin/sh", "-c",
                        "trap 'exit 0' TERM; while true; do sleep 1 & wait; done"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto rm = contctl({"rm", ns_, "web"});
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    auto missing = contctl({"inspect", ns_, "ghost"});  // a NOT_FOUND call
    EXPECT_NE(missing.exit_code, 0);
    // One that out-writes log_rate_limit (1 KiB/s with log_policy drop), then exits.
    auto noisy = contctl({"run", ns_, "noisy", "--rootfs", rootfs_->path().string(), "--netns",
                          netns_->name(), "--restart", "no", "--", "/bin/sh", "-c",
                          "i=0; while [ $i -lt 3000 ]; do "
                          "echo 0123456789012345678901234567890123456789012345678901234567890; "
                          "i=$((i+1)); done"});
    ASSERT_EQ(noisy.exit_code, 0) << noisy.err;
    // One that exits on its own: an exit the supervisor records (Delete reports "deleted").
    auto once = contctl({"run", ns_, "once", "--rootfs", rootfs_->path().string(), "--netns",
                         netns_->name(), "--restart", "no", "--", "/bin/sh", "-c", "exit 3"});
    ASSERT_EQ(once.exit_code, 0) << once.err;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
         std::chrono::steady_clock::now() < until;) {
      auto now = httpGet(port_, "/metrics");
      if (now && sample(now->second, "contd_container_exits_total", {{"namespace", ns_}}) == 2 &&
          sample(now->second, "contd_log_dropped_bytes").value_or(0) > 0) {
        break;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
};

// What /metrics says of makeTraffic(), at once.
void expectTrafficCounted(const std::string& body, const std::string& ns) {
  EXPECT_EQ(sample(body, "contd_api_calls_total", {{"method", "Run"}, {"code", "OK"}}), 3)
      << body;
  EXPECT_EQ(sample(body, "contd_api_calls_total", {{"method", "Delete"}, {"code", "OK"}}), 1);
  EXPECT_EQ(sample(body, "contd_api_call_duration_seconds_count", {{"method", "Run"}}), 3);
  EXPECT_EQ(sample(body, "contd_api_call_duration_seconds_bucket",
                   {{"method", "Run"}, {"le", "+Inf"}}),
            3);
  EXPECT_GE(sample(body, "contd_containerd_requests_total",
                   {{"op", "tasks.Create"}, {"code", "ok"}})
                .value_or(0),
            1)
      << body;
  EXPECT_EQ(sample(body, "contd_container_exits_total", {{"namespace", ns}}), 2) << body;
  EXPECT_TRUE(sample(body, "contd_build_info").has_value());
  // About 190 KB written at 1 KiB/s: most of it dropped, and the log drivers say so.
  EXPECT_GT(sample(body, "contd_log_dropped_bytes").value_or(0), 100000) << body;
  EXPECT_GT(sample(body, "contd_log_dropped_records").value_or(0), 1000);
  EXPECT_GT(sample(body, "contd_log_disk_bytes").value_or(0), 0);
}

TEST_F(MetricsIT, TextfileAndListenerServeValidMetricsThatNodeExporterExports) {
  ASSERT_NO_FATAL_FAILURE(makeTraffic());

  // /metrics: the calls are counted at once.
  auto reply = httpGet(port_, "/metrics");
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->first, 200) << reply->second;
  const std::string body = reply->second;
  expectTrafficCounted(body, ns_);
  EXPECT_EQ(httpGet(port_, "/")->first, 404);

  // The textfile catches up within its refresh period.
  const std::string text = support::waitForFile(
      textfile_,
      [](const std::string& t) {
        return sample(t, "contd_api_calls_total", {{"method", "Delete"}, {"code", "OK"}}) == 1;
      },
      std::chrono::seconds(15));
  EXPECT_EQ(sample(text, "contd_api_calls_total", {{"method", "Run"}, {"code", "OK"}}), 3) << text;
  EXPECT_EQ(sample(text, "contd_containerd_up"), 1);
  EXPECT_EQ(sample(text, "contd_containers", {{"state", "running"}}), 0);
  EXPECT_EQ(sample(text, "contd_containers", {{"state", "stopped"}}), 2) << text;
  EXPECT_FALSE(std::filesystem::exists(textfile_.string() + ".tmp"));

  // (a) promtool accepts both (it lints names, HELP, TYPE, units and histograms too).
  EXPECT_EQ(promtoolProblems(textfile_), "");
  const auto body_file = dir_->path() / "body.txt";
  std::ofstream(body_file) << body;
  EXPECT_EQ(promtoolProblems(body_file), "");

  // (b) node-exporter's textfile collector exports contd's series.
  ASSERT_NO_FATAL_FAILURE(startNodeExporter());
  auto exported = httpGet(exporter_port_, "/metrics");
  ASSERT_TRUE(exported.has_value());
  ASSERT_EQ(exported->first, 200);
  const std::string& node = exported->second;
  EXPECT_EQ(sample(node, "node_textfile_scrape_error"), 0) << node;
  EXPECT_EQ(sample(node, "contd_api_calls_total", {{"method", "Run"}, {"code", "OK"}}), 3) << node;
  EXPECT_EQ(sample(node, "contd_api_calls_total", {{"method", "Delete"}, {"code", "OK"}}), 1);
  EXPECT_EQ(sample(node, "contd_container_exits_total", {{"namespace", ns_}}), 2);
  EXPECT_TRUE(sample(node, "contd_api_call_duration_seconds_bucket",
                     {{"method", "Run"}, {"le", "+Inf"}})
                  .has_value());
  stopNodeExporter();

  // At shutdown contd writes the textfile a last time: the inspect after the last refresh
  // may not be in it yet, but is once contd stopped.
  auto stopped = daemon_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(*stopped, 0);
  const std::string last = support::readFile(textfile_);
  EXPECT_EQ(sample(last, "contd_api_calls_total", {{"method", "Inspect"}, {"code", "NOT_FOUND"}}),
            1)
      << last;
  EXPECT_EQ(promtoolProblems(textfile_), "");
}

}  // namespace
}  // namespace contd
