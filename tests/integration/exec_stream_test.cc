// ExecStream on real parts (docs/api.md): the build's contd on a private containerd and
// runc, a busybox container, and interactive execs into it through the gRPC API: stdin,
// stdout and stderr apart, output without a cap, a terminal that follows resizes, 126/127,
// timeout, signal, a cancelled call, bad messages; and contctl exec -it as an operator
// types into it in a terminal (tmux). After each, no exec, fifo or process is left.
// Needs root, containerd, runc, ip, busybox-static (and tmux for the contctl test); skips
// without them (fails with CI=true).

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "modules/contctl/client.h"
#include "tests/integration/support/daemon_fixture.h"

namespace contd {
namespace {

namespace fs = std::filesystem;
namespace support = ::contd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One ExecStream call: a reader thread gathers what comes back; the test writes.
class ExecCall {
public:
  ExecCall(contctl::Client& client, const v1::ExecStart& start) {
    stream_ = client.execStream(&context_);
    v1::ExecStreamRequest first;
    *first.mutable_start() = start;
    stream_->Write(first);
    reader_ = std::thread([this] { read(); });
  }
  ~ExecCall() {
    context_.TryCancel();
    if (reader_.joinable()) {
      reader_.join();
    }
  }

  bool send(const v1::ExecStreamRequest& message) { return stream_->Write(message); }
  bool sendStdin(const std::string& data) {
    v1::ExecStreamRequest message;
    message.set_stdin(data);
    return send(message);
  }
  void closeStdin() {
    v1::ExecStreamRequest message;
    message.set_close_stdin(true);
    send(message);
  }
  void cancel() { context_.TryCancel(); }

  // Until stdout holds `text` (true) or 10 s passed.
  bool waitForStdout(const std::string& text) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return stdout_.find(text) != std::string::npos; });
  }

  // Until the exit came (true) or 10 s passed.
  bool waitForExit() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return exit_.has_value() || done_; });
  }

  // Closes the writing side and waits for the end of the call (up to 20 s).
  void finish() {
    stream_->WritesDone();
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, 20s, [&] { return done_; });
    ASSERT_TRUE(done_) << "the call did not end; stdout so far: " << stdout_;
  }

  std::string out() {
    std::lock_guard lock(mu_);
    return stdout_;
  }
  std::string err() {
    std::lock_guard lock(mu_);
    return stderr_;
  }
  std::optional<v1::ExecExit> exit() {
    std::lock_guard lock(mu_);
    return exit_;
  }
  grpc::Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }

private:
  void read() {
    v1::ExecStreamResponse response;
    while (stream_->Read(&response)) {
      std::lock_guard lock(mu_);
      if (response.has_exit()) {
        exit_ = response.exit();
      }
      stdout_ += response.stdout();
      stderr_ += response.stderr();
      changed_.notify_all();
    }
    auto status = stream_->Finish();
    std::lock_guard lock(mu_);
    status_ = status;
    done_ = true;
    changed_.notify_all();
  }

  grpc::ClientContext context_;
  std::unique_ptr<contctl::Client::ExecStreamIo> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::string stdout_;
  std::string stderr_;
  std::optional<v1::ExecExit> exit_;
  grpc::Status status_;
  bool done_ = false;
};

class ExecStreamIT : public support::DaemonFixture {
protected:
  ExecStreamIT()
      : DaemonFixture({.ns_prefix = "xs", .dir_prefix = "contd-xs", .start_daemon = true}) {}

  void SetUp() override {
    DaemonFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    api_ = std::make_unique<contctl::Client>(daemon_->socketPath());
    v1::ContainerSpec spec;
    spec.set_name("box");
    spec.set_rootfs(rootfs_->path().string());
    spec.set_network_namespace(netns_->name());
    for (const char* arg : {"/bin/sleep", "100000"}) {
      spec.add_argv(arg);
    }
    ASSERT_TRUE(api_->run(ns_, spec)) << daemon_->logTail();
  }

  void TearDown() override {
    if (api_ && !HasFailure()) {
      EXPECT_EQ(execLeftovers(), "");
    }
    api_.reset();
    DaemonFixture::TearDown();
  }

  v1::ExecStart start(std::initializer_list<std::string> argv) const {
    v1::ExecStart out;
    out.set_namespace_(ns_);
    out.set_id("box");
    for (const auto& arg : argv) {
      out.add_argv(arg);
    }
    return out;
  }

  // Processes in the container besides its init, seen by a bounded Exec of ps.
  std::string otherProcesses() {
    auto ps = api_->exec(ns_, "box", {"/bin/ps", "-o", "pid,args"}, 5000);
    EXPECT_TRUE(ps) << ps.error().message;
    std::string others;
    std::istringstream lines(ps ? ps->output() : "");
    for (std::string line; std::getline(lines, line);) {
      if (line.find("sleep 100000") == std::string::npos && line.find("PID") == std::string::npos &&
          line.find("ps -o") == std::string::npos) {
        others += line + "\n";
      }
    }
    return others;
  }

  // Exec fifos left next to the log, and exec'd processes left in the container (waiting
  // up to 5 s for the kill of a cancelled one to land).
  std::string execLeftovers() {
    std::string left;
    for (auto until = Clock::now() + 5s; Clock::now() < until;) {
      left.clear();
      for (const auto& entry : fs::directory_iterator(dir_->path() / "logs" / ns_)) {
        if (entry.path().filename().string().starts_with(".box.exec-")) {
          left += "fifo " + entry.path().string() + "\n";
        }
      }
      left += otherProcesses();
      if (left.empty()) {
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    return left;
  }

  std::unique_ptr<contctl::Client> api_;
};

TEST_F(ExecStreamIT, StdinReachesTheProcessAndStdoutAndStderrStayApart) {
  auto request = start({"/bin/sh", "-c", "cat; echo oops >&2; exit 3"});
  request.set_stdin(true);
  ExecCall call(*api_, request);
  ASSERT_TRUE(call.sendStdin("hello\n"));
  ASSERT_TRUE(call.waitForStdout("hello\n")) << "stdin did not reach cat while it ran";
  ASSERT_TRUE(call.sendStdin("world\n"));
  call.closeStdin();
  call.finish();
  EXPECT_TRUE(call.status().ok()) << call.status().error_message();
  EXPECT_EQ(call.out(), "hello\nworld\n");
  EXPECT_EQ(call.err(), "oops\n");
  ASSERT_TRUE(call.exit());
  EXPECT_EQ(call.exit()->exit_code(), 3);
  EXPECT_FALSE(call.exit()->timed_out());
}

TEST_F(ExecStreamIT, OutputIsNotCappedAndAProcessWithoutStdinReadsEof) {
  // 300 000 bytes, far over the bounded Exec's 64 KiB; cat ends at once on its EOF stdin.
  ExecCall call(*api_, start({"/bin/sh", "-c", "cat; dd if=/dev/zero bs=1000 count=300 2>/dev/null"}));
  call.finish();
  ASSERT_TRUE(call.exit());
  EXPECT_EQ(call.exit()->exit_code(), 0);
  EXPECT_EQ(call.out().size(), 300'000u);
  EXPECT_EQ(call.out().find_first_not_of('\0'), std::string::npos);
}

TEST_F(ExecStreamIT, AProgramThatCannotRunExitsLikeAShell) {
  struct Row {
    std::string program;
    int code;
  };
  for (const Row& row : {Row{"/no/such/program", 127}, Row{"nosuchprogram", 127},
                         Row{"/etc", 126}}) {
    ExecCall call(*api_, start({row.program}));
    call.finish();
    EXPECT_TRUE(call.status().ok()) << row.program << ": " << call.status().error_message();
    ASSERT_TRUE(call.exit()) << row.program;
    EXPECT_EQ(call.exit()->exit_code(), row.code) << row.program << ": " << call.err();
    EXPECT_NE(call.err(), "") << row.program << ": no reason on stderr";
  }
  // The bounded Exec answers the same.
  auto bounded = api_->exec(ns_, "box", {"/no/such/program"}, 5000);
  ASSERT_TRUE(bounded) << bounded.error().message;
  EXPECT_EQ(bounded->exit_code(), 127);
}

TEST_F(ExecStreamIT, ATerminalIsATtyAndFollowsResizes) {
  auto request = start({"/bin/sh"});
  request.set_tty(true);
  request.set_stdin(true);
  request.mutable_size()->set_width(80);
  request.mutable_size()->set_height(24);
  ExecCall call(*api_, request);
  ASSERT_TRUE(call.sendStdin("tty; stty size; echo TERM=$TERM\n"));
  ASSERT_TRUE(call.waitForStdout("TERM=xterm")) << call.out();
  EXPECT_NE(call.out().find("24 80"), std::string::npos) << call.out();
  EXPECT_NE(call.out().find("/dev/pts/"), std::string::npos) << call.out();
  v1::ExecStreamRequest resize;
  resize.mutable_resize()->set_width(100);
  resize.mutable_resize()->set_height(30);
  ASSERT_TRUE(call.send(resize));
  ASSERT_TRUE(call.sendStdin("stty size\n"));
  ASSERT_TRUE(call.waitForStdout("30 100")) << call.out();
  ASSERT_TRUE(call.sendStdin("exit 5\n"));
  // Not closing first: on a terminal, the end of stdin hangs it up (SIGHUP), like closing
  // a terminal window.
  ASSERT_TRUE(call.waitForExit()) << call.out();
  call.finish();
  ASSERT_TRUE(call.exit()) << call.out();
  EXPECT_EQ(call.exit()->exit_code(), 5);
  EXPECT_EQ(call.err(), "") << "a terminal merges stderr into stdout";
}

TEST_F(ExecStreamIT, ATimeoutKillsTheProcessAndSignalsReachIt) {
  auto request = start({"/bin/sleep", "1000"});
  request.set_timeout_ms(500);
  const auto began = Clock::now();
  {
    ExecCall call(*api_, request);
    call.finish();
    ASSERT_TRUE(call.exit());
    EXPECT_TRUE(call.exit()->timed_out());
    EXPECT_EQ(call.exit()->exit_code(), 128 + SIGKILL);
  }
  EXPECT_LT(Clock::now() - began, 10s);
  ExecCall signalled(*api_, start({"/bin/sleep", "1000"}));
  v1::ExecStreamRequest term;
  term.set_signal(SIGTERM);
  ASSERT_TRUE(signalled.send(term));
  signalled.finish();
  ASSERT_TRUE(signalled.exit());
  EXPECT_EQ(signalled.exit()->exit_code(), 128 + SIGTERM);
  EXPECT_FALSE(signalled.exit()->timed_out());
}

TEST_F(ExecStreamIT, CancellingTheCallKillsTheProcess) {
  auto request = start({"/bin/sh", "-c", "echo up; exec sleep 777"});
  {
    ExecCall call(*api_, request);
    ASSERT_TRUE(call.waitForStdout("up\n"));
    EXPECT_NE(otherProcesses().find("sleep 777"), std::string::npos);
    call.cancel();
  }
  // TearDown's execLeftovers() sees no "sleep 777" left (it waits up to 5 s).
}

TEST_F(ExecStreamIT, BadCallsAreRefusedWithTheFieldNamed) {
  struct Row {
    std::string what;
    v1::ExecStreamRequest first;
    grpc::StatusCode code;
    std::string field;
  };
  std::vector<Row> rows;
  rows.push_back({"stdin first", {}, grpc::StatusCode::INVALID_ARGUMENT, "start"});
  rows.back().first.set_stdin("x");
  rows.push_back({"empty argv", {}, grpc::StatusCode::INVALID_ARGUMENT, "argv"});
  *rows.back().first.mutable_start() = start({});
  rows.push_back({"unknown container", {}, grpc::StatusCode::NOT_FOUND, "nope"});
  *rows.back().first.mutable_start() = start({"/bin/true"});
  rows.back().first.mutable_start()->set_id("nope");
  rows.push_back({"bad namespace", {}, grpc::StatusCode::INVALID_ARGUMENT, "namespace"});
  *rows.back().first.mutable_start() = start({"/bin/true"});
  rows.back().first.mutable_start()->set_namespace_("a\nb");
  rows.push_back({"huge size", {}, grpc::StatusCode::INVALID_ARGUMENT, "size"});
  *rows.back().first.mutable_start() = start({"/bin/sh"});
  rows.back().first.mutable_start()->mutable_size()->set_width(70000);
  for (const auto& row : rows) {
    grpc::ClientContext context;
    auto stream = api_->execStream(&context);
    stream->Write(row.first);
    stream->WritesDone();
    v1::ExecStreamResponse response;
    EXPECT_FALSE(stream->Read(&response)) << row.what;
    const auto status = stream->Finish();
    EXPECT_EQ(status.error_code(), row.code) << row.what << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(row.field), std::string::npos)
        << row.what << ": " << status.error_message();
  }
  // A bad message while the process runs: the call ends with its error, the process killed.
  ExecCall call(*api_, start({"/bin/sleep", "1000"}));
  v1::ExecStreamRequest resize;
  resize.mutable_resize()->set_width(80);
  resize.mutable_resize()->set_height(24);
  ASSERT_TRUE(call.send(resize));
  call.finish();
  EXPECT_EQ(call.status().error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << call.status().error_message();
  EXPECT_NE(call.status().error_message().find("tty"), std::string::npos);
}

TEST_F(ExecStreamIT, AContainerThatDoesNotRunIsAFailedPrecondition) {
  ASSERT_TRUE(api_->stop(ns_, "box", 1000));
  ExecCall call(*api_, start({"/bin/true"}));
  call.finish();
  EXPECT_EQ(call.status().error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << call.status().error_message();
  ASSERT_TRUE(api_->start(ns_, "box"));
}

// The operator's view: contctl exec -it in a real terminal (a tmux pane), typed into.
class ContctlTerminal {
public:
  ContctlTerminal(const fs::path& dir) : socket_((dir / "tmux.sock").string()) {}
  ~ContctlTerminal() { (void)support::runCommand({"tmux", "-S", socket_, "kill-server"}, 10s); }

  support::CommandResult tmux(std::vector<std::string> args) {
    args.insert(args.begin(), {"tmux", "-S", socket_});
    auto result = support::runCommand(args, 10s);
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : support::CommandResult{};
  }
  // Until the pane shows a line equal to `line` (true) or 10 s passed.
  bool shows(const std::string& line) {
    for (auto until = Clock::now() + 10s; Clock::now() < until;) {
      std::istringstream screen(tmux({"capture-pane", "-p", "-t", "t"}).out);
      for (std::string row; std::getline(screen, row);) {
        if (row.substr(0, row.find_last_not_of(' ') + 1) == line) {
          return true;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  std::string screen() { return tmux({"capture-pane", "-p", "-t", "t"}).out; }

private:
  std::string socket_;
};

TEST_F(ExecStreamIT, ContctlExecItIsAShellInATerminal) {
  CONTD_REQUIRE_OR_SKIP(support::runCommand({"tmux", "-V"}).ok(), "tmux on PATH (package tmux)");
  ContctlTerminal terminal(dir_->path());
  const fs::path status_file = dir_->path() / "contctl.status";
  const std::string command = std::string(CONTCTL_BIN) + " --socket " + daemon_->socketPath() +
                              " exec -it " + ns_ + " box /bin/sh; echo $? > " +
                              status_file.string() + "; sleep 60";
  ASSERT_TRUE(terminal.tmux({"new-session", "-d", "-s", "t", "-x", "80", "-y", "24", command}).ok());
  terminal.tmux({"send-keys", "-t", "t", "echo $((6*7))", "Enter"});
  ASSERT_TRUE(terminal.shows("42")) << terminal.screen();
  terminal.tmux({"send-keys", "-t", "t", "stty size", "Enter"});
  ASSERT_TRUE(terminal.shows("24 80")) << terminal.screen();
  terminal.tmux({"resize-window", "-t", "t", "-x", "100", "-y", "30"});
  terminal.tmux({"send-keys", "-t", "t", "clear; stty size", "Enter"});
  ASSERT_TRUE(terminal.shows("30 100")) << terminal.screen();
  // Ctrl-D ends the shell, and contctl with its exit code.
  terminal.tmux({"send-keys", "-t", "t", "C-d"});
  for (auto until = Clock::now() + 10s; Clock::now() < until && !fs::exists(status_file);) {
    std::this_thread::sleep_for(100ms);
  }
  std::ifstream status(status_file);
  std::string code;
  status >> code;
  EXPECT_EQ(code, "0") << terminal.screen();
}

}  // namespace
}  // namespace contd
