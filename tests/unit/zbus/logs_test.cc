// The zbus Logs text, through the path the bridge takes (ServiceBackend::logsTail over
// ContainerService::logs and the core's log reader): raw lines as they are, CRI lines
// without their framing, partials joined per stream, the last N logical lines, a '\n'
// after each line except a last one the file does not finish. zbus callers compare this
// text byte for byte, so these cases pin it down.

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "modules/container/service.h"
#include "tests/fakes/fake_containerd.h"
#include "modules/zbus/service_backend.h"

namespace contd::zbus {
namespace {

namespace fs = std::filesystem;

class ZbusLogs : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("contd-zbus-logs-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "logs" / "ns");
    container::ServiceOptions options;
    options.log_root = root_ / "logs";
    service_ = std::make_unique<container::ContainerService>(fake_, options);
    backend_ = std::make_unique<ServiceBackend>(*service_);
    containerd::ContainerRecord record;
    record.id = "web";
    record.labels[kManagedLabel] = "true";
    ASSERT_TRUE(fake_.ensureNamespace("ns"));
    ASSERT_TRUE(fake_.createContainer("ns", record));
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path logFile() const { return root_ / "logs" / "ns" / "web.log"; }
  void writeLog(const std::string& text, const std::string& suffix = "") {
    std::ofstream(logFile().string() + suffix, std::ios::binary | std::ios::trunc) << text;
  }
  // The Logs text of a log file holding `text`.
  std::string logs(const std::string& text, std::size_t lines) {
    writeLog(text);
    auto tail = backend_->logsTail("ns", "web", lines);
    EXPECT_TRUE(tail) << tail.error().message;
    return tail ? *tail : "<error>";
  }

  fs::path root_;
  testing::FakeContainerd fake_;
  std::unique_ptr<container::ContainerService> service_;
  std::unique_ptr<ServiceBackend> backend_;
};

TEST_F(ZbusLogs, RawLinesStayAsTheyAre) {
  EXPECT_EQ(logs("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(logs("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(logs("", 100), "");
  EXPECT_EQ(logs("\n\n", 100), "\n\n");
  using namespace std::string_literals;
  EXPECT_EQ(logs("a\r\nb\0c\n"s, 100), "a\r\nb\0c\n"s);
}

TEST_F(ZbusLogs, CriFramingIsStrippedAndPartialsJoined) {
  const std::string text =
      "2026-11-22T09:46:47.123456789Z stdout F hello\n"
      "2026-11-22T09:46:47.2Z stderr P par\n"
      "2026-11-22T09:46:47.3Z stdout F between\n"
      "2026-11-22T09:46:47.4Z stderr F tial\n"
      "2026-11-22T09:46:47.5+01:00 stdout F \n"
      "2026-11-22T09:46:47.6Z stdout F\n"
      "not a cri line stdout F x\n";
  EXPECT_EQ(logs(text, 100), "hello\nbetween\npartial\n\n\nnot a cri line stdout F x\n");
  EXPECT_EQ(logs(text, 2), "\nnot a cri line stdout F x\n");
  // Lines that only look a bit like CRI are kept whole.
  EXPECT_EQ(logs("2026-11-22T09:46:47Z stdin F x\n", 1), "2026-11-22T09:46:47Z stdin F x\n");
  EXPECT_EQ(logs("2026-11-22T09:46:47Z stdout X x\n", 1), "2026-11-22T09:46:47Z stdout X x\n");
  EXPECT_EQ(logs("2026-11-22 09:46:47Z stdout F x\n", 1), "2026-11-22 09:46:47Z stdout F x\n");
  // The time field is recognised by its shape, as it always was for zbus.
  EXPECT_EQ(logs("2026-11-22T09:46:47.5 stdout F no zone\n", 1), "no zone\n");
  // A partial nothing completed yet is shown as it is; one without text shows nothing.
  EXPECT_EQ(logs("2026-11-22T09:46:47Z stdout P abc\n", 1), "abc");
  EXPECT_EQ(logs("a\n2026-11-22T09:46:47Z stdout P \n", 1), "a\n");
  // A last record without newline ends the text without one.
  EXPECT_EQ(logs("2026-11-22T09:46:47Z stdout P ab\n2026-11-22T09:46:47Z stdout F cd", 5),
            "abcd");
  // Unfinished partials come last, stdout first.
  EXPECT_EQ(logs("2026-11-22T09:46:47Z stderr P e\n2026-11-22T09:46:47Z stdout P o\nraw\n", 5),
            "raw\noe");
}

TEST_F(ZbusLogs, LastHundredOfAFileLargerThanTheFirstWindow) {
  std::string text;
  for (int i = 0; i < 50000; ++i) {
    text += "2026-11-22T09:46:47.123456789Z stdout F line " + std::to_string(i) + "\n";
  }
  std::string expected;
  for (int i = 49900; i < 50000; ++i) {
    expected += "line " + std::to_string(i) + "\n";
  }
  EXPECT_EQ(logs(text, 100), expected);
}

TEST_F(ZbusLogs, LongLinesGrowTheWindow) {
  const std::string long_line(100000, 'x');
  EXPECT_EQ(logs("first\n" + long_line + "\n" + long_line + "\nlast\n", 3),
            long_line + "\n" + long_line + "\nlast\n");
}

TEST_F(ZbusLogs, ALongJoinedLineIsWholeEvenWhenItStartsFarBack) {
  // 20 P records of 16 KiB: the line starts 320 KiB before the end, far past the first
  // window, and comes back whole.
  std::string text = "2026-11-22T09:46:47Z stdout F before\n";
  std::string joined;
  for (int i = 0; i < 20; ++i) {
    const std::string piece(16384, static_cast<char>('a' + i));
    text += "2026-11-22T09:46:47Z stdout P " + piece + "\n";
    joined += piece;
  }
  text += "2026-11-22T09:46:47Z stdout F !\n";
  EXPECT_EQ(logs(text, 1), joined + "!\n");
  EXPECT_EQ(logs(text, 2), "before\n" + joined + "!\n");
}

TEST_F(ZbusLogs, RotatedFilesContinueTheTail) {
  writeLog("2026-11-22T09:46:47Z stdout F one\n2026-11-22T09:46:47Z stdout P tw\n", ".1");
  EXPECT_EQ(logs("2026-11-22T09:46:47Z stdout F o\nthree\n", 3), "one\ntwo\nthree\n");
}

TEST_F(ZbusLogs, MissingFileIsNotFound) {
  auto tail = backend_->logsTail("ns", "web", 100);
  ASSERT_FALSE(tail);
  EXPECT_EQ(tail.error().code, Code::kNotFound);
  EXPECT_EQ(tail.error().message,
            "open '" + logFile().string() + "': No such file or directory");
}

TEST_F(ZbusLogs, UnknownContainerIsNotFound) {
  auto tail = backend_->logsTail("ns", "db", 100);
  ASSERT_FALSE(tail);
  EXPECT_EQ(tail.error().code, Code::kNotFound);
  EXPECT_EQ(tail.error().message, "container \"db\" in namespace \"ns\": not found");
}

TEST(ZbusLogsText, CompleteLinesGetANewline) {
  EXPECT_EQ(logsText({}), "");
  EXPECT_EQ(logsText({{.text = "a"}, {.text = ""}, {.text = "b", .complete = false}}), "a\n\nb");
}

}  // namespace
}  // namespace contd::zbus
