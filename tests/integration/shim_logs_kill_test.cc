// contd-shim-logs under a real, private containerd and runc, when one of its processes (the
// logger that holds the pipes, or the writer) is killed: the container keeps running and
// the log loses as little as it can. The fixture is in shim_logs_fixture.h.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with
// CI=true).

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/integration/shim_logs_fixture.h"

namespace contd::containerd {
namespace {

TEST_F(ShimLogsTest, KilledLoggerLeavesTheContainerRunning) {
  const fs::path ticking = marker("victim", "ticking");
  // The writer is the container's PID 1: the kernel does not deliver a default-action
  // SIGPIPE to a pid namespace's init, so its writes just fail with EPIPE.
  run("victim", "i=0; while true; do echo tick $i; i=$((i+1)); touch " +
                    inContainer(ticking) + "; sleep 0.05; done");
  ASSERT_TRUE(waitFor([&] { return slurp(logFile("victim")).find("tick 3") != std::string::npos; },
                      5s));
  const pid_t logger = findLogger(ns_, "victim");
  ASSERT_NE(logger, 0);
  const pid_t writer = findWriter(logger);
  killPipeline(logger);
  ASSERT_TRUE(waitFor([&] { return findLogger(ns_, "victim") == 0 && !alive(writer); }, 5s));
  const auto size_after_kill = fs::file_size(logFile("victim"));
  std::this_thread::sleep_for(500ms);
  fs::remove(ticking);
  ASSERT_TRUE(waitFor([&] { return fs::exists(ticking); }, 5s)) << "the container stopped";
  auto state = client_->getTask(ns_, "victim");
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->status, TaskStatus::kRunning);
  // Documented loss: with holder and writer both killed, nothing restarts the pipeline;
  // later output is gone.
  EXPECT_EQ(fs::file_size(logFile("victim")), size_after_kill);
  EXPECT_LT(stopAndDelete("victim"), 5s);
}

TEST_F(ShimLogsTest, KilledLoggerKillsAChildWriterWithSigpipe) {
  // The flip side (docs/logs.md): a process other than PID 1 with SIGPIPE at its default
  // dies at its next write once the whole pipeline (holder and writer) is gone; PID 1
  // (above) only gets EPIPE.
  const fs::path status = marker("plain", "status");
  run("plain", "(i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done); echo $? > " +
                   inContainer(status) + "; exec sleep 1000");
  ASSERT_TRUE(
      waitFor([&] { return slurp(logFile("plain")).find("tick 3") != std::string::npos; }, 5s));
  const pid_t logger = findLogger(ns_, "plain");
  ASSERT_NE(logger, 0);
  killPipeline(logger);
  ASSERT_TRUE(waitFor([&] { return slurp(status).find('\n') != std::string::npos; }, 5s));
  EXPECT_EQ(slurp(status), std::to_string(128 + SIGPIPE) + "\n");
  auto state = client_->getTask(ns_, "plain");
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->status, TaskStatus::kRunning);
  EXPECT_LT(stopAndDelete("plain"), 5s);
}

TEST_F(ShimLogsTest, KilledWriterIsReplacedAndTheLogContinues) {
  // Per stream: one 64 KiB read plus a 16 KiB partial line (docs/logs.md).
  constexpr std::size_t kMaxLossPerRestart = 2 * (64 + 16) * 1024;
  run("counter", "i=0; while true; do echo $i; i=$((i+1)); sleep 0.003; done");
  const auto count = [&] { return texts(parseRecords(slurp(logFile("counter"))), "stdout").size(); };
  ASSERT_TRUE(waitFor([&] { return count() >= 50; }, 10s));
  auto before = client_->getTask(ns_, "counter");
  ASSERT_TRUE(before) << before.error().message;
  const pid_t holder = findLogger(ns_, "counter");
  ASSERT_NE(holder, 0);
  const pid_t writer = findWriter(holder);
  ASSERT_NE(writer, 0);
  const std::size_t at_kill = count();
  ASSERT_EQ(::kill(writer, SIGKILL), 0);

  pid_t next = 0;
  ASSERT_TRUE(waitFor([&] {
    next = findWriter(holder);
    return next != 0 && next != writer;
  }, 5s)) << "no new writer under the holder";
  ASSERT_TRUE(waitFor([&] { return count() >= at_kill + 100; }, 10s)) << "the log stopped";
  const fs::path health = log_root_ / ns_ / ".counter.log.health";
  EXPECT_TRUE(waitFor([&] {
    return slurp(health).find("\"writer_restarts\":1,") != std::string::npos;
  }, 3s)) << slurp(health);
  EXPECT_EQ(findLogger(ns_, "counter"), holder);
  auto after = client_->getTask(ns_, "counter");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->status, TaskStatus::kRunning);
  EXPECT_EQ(after->pid, before->pid) << "the container was restarted";
  EXPECT_LT(stopAndDelete("counter"), 5s);
  EXPECT_FALSE(alive(next)) << "the new writer outlived task Delete";

  // The numbers go on in order; the gap (if any) is within the bound. A writer killed in
  // the middle of a write(2) may leave half a record, which its successor ends with a
  // newline: tolerate one odd record.
  const std::string content = slurp(logFile("counter"));
  std::vector<long> numbers;
  std::size_t odd = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    const std::size_t nl = content.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    const std::string line = content.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.size() > 40 && line.compare(30, 10, " stdout F ") == 0 &&
        line.find_first_not_of("0123456789", 40) == std::string::npos) {
      numbers.push_back(std::stol(line.substr(40)));
    } else {
      ++odd;
    }
  }
  EXPECT_LE(odd, 1u);
  ASSERT_GT(numbers.size(), at_kill + 100);
  EXPECT_EQ(numbers.front(), 0);
  std::size_t lost_bytes = 0;
  std::size_t descents = 0;
  for (std::size_t k = 1; k < numbers.size(); ++k) {
    if (numbers[k] <= numbers[k - 1]) {
      ++descents;
      continue;
    }
    for (long missing = numbers[k - 1] + 1; missing < numbers[k]; ++missing) {
      lost_bytes += std::to_string(missing).size() + 1;
    }
  }
  EXPECT_LE(descents, odd);
  EXPECT_LE(lost_bytes, kMaxLossPerRestart);
  std::cerr << "[ info ] lines " << numbers.size() << ", lost " << lost_bytes
            << " bytes of output at the restart\n";
}

// The `drop` policy: a fast container is not held up, the file grows at most at the rate
// (plus one bucket), drops are counted in the health file, and only whole lines are kept.
TEST_F(ShimLogsTest, KilledHolderLeavesTheWriterWriting) {
  run("orphan", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.02; done");
  const auto count = [&] { return texts(parseRecords(slurp(logFile("orphan"))), "stdout").size(); };
  ASSERT_TRUE(waitFor([&] { return count() >= 5; }, 5s));
  const pid_t holder = findLogger(ns_, "orphan");
  ASSERT_NE(holder, 0);
  const pid_t writer = findWriter(holder);
  ASSERT_NE(writer, 0);
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  ASSERT_TRUE(waitFor([&] { return !alive(holder); }, 5s));
  const std::size_t at_kill = count();
  ASSERT_TRUE(waitFor([&] { return count() >= at_kill + 20; }, 5s)) << "the writer stopped";
  EXPECT_TRUE(alive(writer));
  EXPECT_LT(stopAndDelete("orphan"), 5s);
  EXPECT_TRUE(waitFor([&] { return !alive(writer); }, 2s)) << "the writer outlived Delete";
  const auto lines = texts(parseRecords(slurp(logFile("orphan"))), "stdout");
  for (std::size_t k = 0; k < lines.size(); ++k) {
    ASSERT_EQ(lines[k], "tick " + std::to_string(k)) << "a line was lost at " << k;
  }
}

// kill -9 of a busy writer (a full pipe to drain on every round): the gap in the numbers is
// what it had read and not written, within the documented bound, and nothing else is lost.
TEST_F(ShimLogsTest, KilledBusyWriterLosesAtMostItsBuffers) {
  constexpr std::size_t kMaxLossPerRestart = 2 * (64 + 16) * 1024;
  constexpr int kLines = 2'000'000;
  const fs::path done = marker("busy", "done");
  run("busy", "seq 1 " + std::to_string(kLines) + "; touch " + inContainer(done) +
                  "; exec sleep 1000",
      0, 3);
  ASSERT_TRUE(waitFor([&] { return fs::exists(logFile("busy")) &&
                                   fs::file_size(logFile("busy")) > 8u << 20; }, 20s));
  const pid_t holder = findLogger(ns_, "busy");
  const pid_t writer = findWriter(holder);
  ASSERT_NE(writer, 0);
  ASSERT_EQ(::kill(writer, SIGKILL), 0);
  ASSERT_TRUE(waitFor([&] { return fs::exists(done); }, 30s));
  EXPECT_LT(stopAndDelete("busy"), 5s);
  const std::string health = slurp(log_root_ / ns_ / ".busy.log.health");
  EXPECT_NE(health.find("\"writer_restarts\":1,"), std::string::npos) << health;

  const std::string content = slurp(logFile("busy"));
  std::size_t odd = 0;
  long expected = 1;
  std::size_t lost_bytes = 0;
  std::size_t gaps = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    const std::size_t nl = content.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    const std::string line = content.substr(pos, nl - pos);
    pos = nl + 1;
    if (!(line.size() > 40 && line.compare(30, 10, " stdout F ") == 0 &&
          line.find_first_not_of("0123456789", 40) == std::string::npos)) {
      ++odd;  // half a record, ended by the next writer
      continue;
    }
    const long n = std::stol(line.substr(40));
    if (n < expected) {
      ++odd;  // the cut-off start of a number from a half record
      continue;
    }
    if (n > expected) {
      ++gaps;
      for (long missing = expected; missing < n; ++missing) {
        lost_bytes += std::to_string(missing).size() + 1;
      }
    }
    expected = n + 1;
  }
  EXPECT_EQ(expected, kLines + 1) << "the end is missing";
  // Two traces are documented (docs/logs.md): half a record the dead writer left inside a
  // write(2), ended by its successor, and the successor's first record being the tail of a
  // line whose head the dead writer had read. Both may occur at one restart.
  EXPECT_LE(odd, 2u);
  EXPECT_LE(gaps, 1u);
  EXPECT_LE(lost_bytes, kMaxLossPerRestart);
  std::cerr << "[ info ] lost " << lost_bytes << " bytes of output (" << gaps << " gap, " << odd
            << " odd record) at the restart of a busy writer\n";
}

}  // namespace
}  // namespace contd::containerd
