// The loggers' output formats: plain for a terminal or file, syslog priority prefixes for
// journald (modules/common/logging.h).

#include "modules/common/logging.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

namespace contd::log {
namespace {

// Runs `body` with stderr redirected to a temp file and returns what it wrote.
template <typename F>
std::string captureStderr(F body) {
  std::fflush(stderr);
  char path[] = "/tmp/contd-logging-test-XXXXXX";
  const int fd = ::mkstemp(path);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  body();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string text;
  char buffer[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  ::unlink(path);
  return text;
}

TEST(Logging, SyslogPrioritiesFollowTheLevel) {
  EXPECT_EQ(syslogPriority(spdlog::level::debug), 7);
  EXPECT_EQ(syslogPriority(spdlog::level::info), 6);
  EXPECT_EQ(syslogPriority(spdlog::level::warn), 4);
  EXPECT_EQ(syslogPriority(spdlog::level::err), 3);
  EXPECT_EQ(syslogPriority(spdlog::level::critical), 2);
}

TEST(Logging, JournalFormatPrefixesEachLineWithItsPriority) {
  init("debug");
  const std::string text = captureStderr([] {
    setFormat(Format::kJournal);
    contd()->info("ready socket={}", "/run/contd/contd.sock");
    api()->warn("slow call ms={}", 1200);
    container()->error("run failed");
    setFormat(Format::kPlain);
    contd()->info("plain again");
  });
  EXPECT_NE(text.find("<6>info [contd] ready socket=/run/contd/contd.sock\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("<4>warning [api] slow call ms=1200\n"), std::string::npos) << text;
  EXPECT_NE(text.find("<3>error [container] run failed\n"), std::string::npos) << text;
  // The plain format starts with a UTC timestamp.
  const auto plain = text.find("plain again");
  ASSERT_NE(plain, std::string::npos) << text;
  const auto line_start = text.rfind('\n', plain) + 1;
  EXPECT_NE(text.substr(line_start, 20).find('T'), std::string::npos) << text;
  EXPECT_NE(text[line_start], '<') << text;
  init("info");
}

TEST(Logging, JournalOnlyWhenJournalStreamNamesStderr) {
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(formatForStderr(), Format::kPlain);
  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_EQ(formatForStderr(), Format::kJournal);
  // Inherited by a process whose stderr was redirected elsewhere: not the journal.
  ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":1").c_str(), 1);
  EXPECT_EQ(formatForStderr(), Format::kPlain);
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_EQ(formatForStderr(), Format::kPlain);
  ::unsetenv("JOURNAL_STREAM");
}

// log_format "json": every logger writes one JSON object per line on stderr.
TEST(Logging, JsonFormatWritesOneObjectPerLine) {
  init("debug");
  const std::string text = captureStderr([] {
    setFormat(Format::kJson);
    api()->info("call op=Run ns=demo id=web code=OK ms={}", 1.5);
    container()->warn("restart failed ns=demo id=web error=\"{}\"", "no \\\"shim\\\"");
    setFormat(Format::kPlain);
  });
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(nlohmann::json::parse(line, nullptr, false));
    ASSERT_TRUE(lines.back().is_object()) << line;
  }
  ASSERT_EQ(lines.size(), 2U) << text;
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["logger"], "api");
  EXPECT_EQ(lines[0]["msg"], "call op=Run ns=demo id=web code=OK ms=1.5");
  EXPECT_EQ(lines[0]["op"], "Run");
  EXPECT_EQ(lines[0]["ms"], "1.5");
  EXPECT_EQ(lines[0]["time"].get<std::string>().back(), 'Z');
  EXPECT_EQ(lines[1]["level"], "warning");
  EXPECT_EQ(lines[1]["error"], "no \"shim\"");
  init("info");
}

// A sink of the daemon's (the journal) replaces stderr for every logger, and back.
TEST(Logging, SetSinkRedirectsEveryLogger) {
  init("info");
  std::ostringstream out;
  setSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  const std::string text = captureStderr([] { zbus()->info("to the sink key=v"); });
  setSink(nullptr);
  EXPECT_EQ(text, "");
  EXPECT_NE(out.str().find("to the sink key=v"), std::string::npos) << out.str();
  const std::string back = captureStderr([] { zbus()->info("on stderr again"); });
  EXPECT_NE(back.find("on stderr again"), std::string::npos) << back;
}

// The bridge's logger is one of the set: a level change (SIGHUP re-runs init) reaches it.
TEST(Logging, ZbusLoggerFollowsLevelChanges) {
  log::init("info");
  ASSERT_NE(log::zbus(), nullptr);
  EXPECT_EQ(log::zbus()->name(), "zbus");
  EXPECT_EQ(log::zbus()->level(), spdlog::level::info);
  log::init("debug");
  EXPECT_EQ(log::zbus()->level(), spdlog::level::debug);
  log::init("info");
  EXPECT_EQ(log::zbus()->level(), spdlog::level::info);
}

}  // namespace
}  // namespace contd::log
