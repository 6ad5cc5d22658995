#include "modules/container/exec_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "modules/common/logging.h"
#include "modules/container/defaults.h"
#include "modules/container/validation.h"

namespace contd::container {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long pump() keeps reading after the exit while something else (a background child)
// keeps the output open.
constexpr auto kOutputGrace = 2s;
// How long the waiter waits after the SIGKILL of a process that outlived its timeout.
constexpr auto kKillGrace = 5s;

void notify(const UniqueFd& event) {
  const std::uint64_t one = 1;
  (void)!::write(event.get(), &one, sizeof(one));
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

Status validateExecStream(const ExecStreamOptions& options) {
  CONTD_RETURN_IF_ERROR(validateExecArgv(options.argv));
  if (options.timeout.count() < 0 || options.timeout > kMaxExecTimeout) {
    return invalidArgument("timeout_ms: at most " + std::to_string(kMaxExecTimeout.count()) +
                           " ms, got " + std::to_string(options.timeout.count()) + " ms");
  }
  if (options.width > 0xffff || options.height > 0xffff) {
    return invalidArgument("size: width and height at most 65535, got " +
                           std::to_string(options.width) + "x" + std::to_string(options.height));
  }
  return okStatus();
}

std::optional<std::int32_t> shellCodeForStartFailure(const Error& error) {
  std::string text = error.message;
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // The runc shim wraps every refusal of the runtime in this (pkg/process/exec.go).
  if (!contains(text, "oci runtime exec failed")) {
    return std::nullopt;
  }
  if (contains(text, "not found in $path") || contains(text, "no such file or directory")) {
    return 127;
  }
  if (contains(text, "permission denied") || contains(text, "is a directory") ||
      contains(text, "exec format error")) {
    return 126;
  }
  return std::nullopt;
}

ExecSession::ExecSession(containerd::Client& client, std::string ns, std::string id,
                         std::string exec_id)
    : client_(client), ns_(std::move(ns)), id_(std::move(id)), exec_id_(std::move(exec_id)) {}

Status ExecSession::openFifos(const std::filesystem::path& dir, bool with_stdin, bool tty) {
  exited_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ended_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!exited_fd_.valid() || !ended_fd_.valid()) {
    return sysError("eventfd", errno);
  }
  // Container names cannot start with '.', so the fifos collide with no log file.
  const std::string base = "." + id_ + "." + exec_id_;
  const int outputs = tty ? 1 : 2;
  for (int i = 0; i < outputs + 1; ++i) {
    const bool input = i == outputs;
    if (input && !with_stdin) {
      break;
    }
    fifos_.push_back(dir / (base + (input ? ".in" : i == 0 ? ".out" : ".err")));
    const auto& path = fifos_.back();
    if (::mkfifo(path.c_str(), 0600) != 0) {
      fifos_.pop_back();
      return sysError("mkfifo '" + path.string() + "'", errno);
    }
    // Opening a fifo read-write never blocks, and keeps writes from failing with EPIPE
    // before the shim opened its reader.
    UniqueFd& fd = input ? in_ : out_[i];
    fd = UniqueFd(::open(path.c_str(), (input ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
      return sysError("open '" + path.string() + "'", errno);
    }
    if (!input) {
      hold_[i] = UniqueFd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
      if (!hold_[i].valid()) {
        return sysError("open '" + path.string() + "' for writing", errno);
      }
    }
  }
  return okStatus();
}

Result<std::unique_ptr<ExecSession>> ExecSession::start(containerd::Client& client,
                                                        std::string_view ns, std::string_view id,
                                                        nlohmann::json process,
                                                        const ExecStreamOptions& options,
                                                        const std::filesystem::path& fifo_dir,
                                                        std::string exec_id) {
  std::unique_ptr<ExecSession> session(
      new ExecSession(client, std::string(ns), std::string(id), std::move(exec_id)));
  const std::string what = "exec in '" + std::string(id) + "'";
  if (auto opened = session->openFifos(fifo_dir, options.stdin, options.tty); !opened) {
    return opened.error().wrap(what);
  }
  session->tty_ = options.tty;
  process["args"] = options.argv;
  process["terminal"] = options.tty;
  if (options.tty) {
    auto& env = process["env"];
    if (!env.is_array()) {
      env = nlohmann::json::array();
    }
    const bool has_term = std::any_of(env.begin(), env.end(), [](const auto& entry) {
      return entry.is_string() && entry.template get<std::string>().starts_with("TERM=");
    });
    if (!has_term) {
      env.push_back("TERM=xterm");
    }
    if (options.width > 0 && options.height > 0) {
      process["consoleSize"] = {{"height", options.height}, {"width", options.width}};
    }
  }
  const auto& fifos = session->fifos_;
  containerd::ExecRequest request{
      .exec_id = session->exec_id_,
      .process_spec_json = process.dump(),
      .stdout_uri = fifos[0].string(),
      .stderr_uri = options.tty ? std::string() : fifos[1].string(),
      .stdin_uri = options.stdin ? fifos.back().string() : std::string(),
      .terminal = options.tty};
  CONTD_RETURN_IF_ERROR(client.execProcess(ns, id, request));
  if (auto started = client.startProcess(ns, id, session->exec_id_); !started) {
    (void)client.deleteProcess(ns, id, session->exec_id_);
    return started.error().wrap(what);
  }
  session->started_ = true;
  // The shim opened its writers during Start: EOF now means the process's output ended.
  session->hold_[0].reset();
  session->hold_[1].reset();
  session->waiter_ = std::thread([raw = session.get(), timeout = options.timeout] {
    raw->waitForExit(timeout);
  });
  return session;
}

void ExecSession::waitForExit(std::chrono::milliseconds timeout) {
  std::optional<Clock::time_point> deadline;
  if (timeout.count() > 0) {
    deadline = Clock::now() + timeout;
  }
  for (;;) {
    auto chunk = std::chrono::milliseconds(std::chrono::hours(1));
    if (deadline) {
      chunk = std::max(1ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                *deadline - Clock::now()));
    }
    auto exit = client_.waitProcess(ns_, id_, exec_id_, chunk);
    if (exit) {
      exit_.exit_code = static_cast<std::int32_t>(exit->code);
      break;
    }
    const Code code = exit.error().code;
    if (code == Code::kDeadlineExceeded && deadline && Clock::now() >= *deadline &&
        !timed_out_) {
      timed_out_ = true;
      (void)client_.killProcess(ns_, id_, exec_id_, SIGKILL);
      deadline = Clock::now() + kKillGrace;
    } else if (code == Code::kDeadlineExceeded && !(deadline && timed_out_)) {
      continue;
    } else if (code == Code::kUnavailable && !stopping_) {
      std::this_thread::sleep_for(500ms);  // containerd restarts; the shim keeps the process
    } else {
      log::container()->warn("exec ns={} id={} exec_id={} op=wait error=\"{}\"", ns_, id_,
                             exec_id_, exit.error().message);
      break;
    }
  }
  exit_.timed_out = timed_out_;
  exited_ = true;
  notify(exited_fd_);
}

bool ExecSession::drain(int index, const OutputSink& sink) {
  char buffer[32 * 1024];
  const ssize_t n = ::read(out_[index].get(), buffer, sizeof(buffer));
  if (n > 0) {
    if (!output_gone_ &&
        !sink(index == 0 ? ExecOutput::kStdout : ExecOutput::kStderr,
              std::string_view(buffer, static_cast<std::size_t>(n)))) {
      output_gone_ = true;
      cancel();
    }
    return true;
  }
  if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    out_[index].reset();
    return false;
  }
  return true;
}

ExecExit ExecSession::pump(const OutputSink& sink) {
  std::optional<Clock::time_point> grace_end;
  for (;;) {
    if (grace_end && !out_[0].valid() && !out_[1].valid()) {
      break;
    }
    int wait_ms = -1;
    if (grace_end) {
      wait_ms = static_cast<int>(std::max<std::int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(*grace_end - Clock::now())
                 .count()));
    }
    pollfd fds[3] = {{out_[0].get(), POLLIN, 0},
                     {out_[1].get(), POLLIN, 0},
                     {grace_end ? -1 : exited_fd_.get(), POLLIN, 0}};
    const int ready = ::poll(fds, 3, wait_ms);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      break;  // the grace after the exit is over (or poll failed)
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && fds[i].revents != 0) {
        drain(i, sink);
      }
    }
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      grace_end = Clock::now() + kOutputGrace;
    }
  }
  markEnded();
  waiter_.join();
  return exit_;
}

void ExecSession::markEnded() { notify(ended_fd_); }

Status ExecSession::writeStdin(std::string_view data) {
  std::lock_guard lock(in_mu_);
  if (!in_.valid()) {
    return failedPrecondition("stdin: not open (ExecStart.stdin unset, or closed)");
  }
  while (!data.empty()) {
    const ssize_t n = ::write(in_.get(), data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return sysError("write to the stdin of exec '" + exec_id_ + "'", errno);
    }
    pollfd fds[2] = {{in_.get(), POLLOUT, 0}, {ended_fd_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) > 0 && fds[1].revents != 0) {
      return makeError(Code::kCancelled, "exec '" + exec_id_ + "' ended");
    }
  }
  return okStatus();
}

Status ExecSession::closeStdin() {
  {
    std::lock_guard lock(in_mu_);
    if (!in_.valid()) {
      return okStatus();
    }
    in_.reset();
  }
  return client_.closeProcessStdin(ns_, id_, exec_id_);
}

Status ExecSession::resize(std::uint32_t width, std::uint32_t height) {
  if (!tty_) {
    return failedPrecondition("resize: the exec has no terminal (ExecStart.tty unset)");
  }
  if (width == 0 || height == 0 || width > 0xffff || height > 0xffff) {
    return invalidArgument("resize: width and height between 1 and 65535, got " +
                           std::to_string(width) + "x" + std::to_string(height));
  }
  return client_.resizeProcessPty(ns_, id_, exec_id_, width, height);
}

Status ExecSession::signal(int signal) {
  if (signal < 1 || signal > 64) {
    return invalidArgument("signal: between 1 and 64, got " + std::to_string(signal));
  }
  return client_.killProcess(ns_, id_, exec_id_, signal);
}

void ExecSession::cancel() {
  if (!exited_) {
    (void)client_.killProcess(ns_, id_, exec_id_, SIGKILL);
  }
}

ExecSession::~ExecSession() {
  stopping_ = true;
  if (ended_fd_.valid()) {
    markEnded();
  }
  if (waiter_.joinable()) {
    cancel();
    waiter_.join();
  }
  if (started_) {
    (void)client_.deleteProcess(ns_, id_, exec_id_);
  }
  std::error_code ec;
  for (const auto& path : fifos_) {
    std::filesystem::remove(path, ec);
  }
}

}  // namespace contd::container
