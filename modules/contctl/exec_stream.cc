#include "modules/contctl/exec_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <thread>

#include "modules/common/unique_fd.h"
#include "modules/contctl/error_text.h"

namespace contd::contctl {
namespace {

constexpr int kExitServer = 1;
constexpr int kExitTimedOut = 124;  // as timeout(1)

// SIGWINCH arrives here; the input thread reads it from this pipe.
int g_winch_fd = -1;

void onWinch(int) {
  const char byte = 1;
  (void)!::write(g_winch_fd, &byte, 1);
}

// contctl's terminal in raw mode (keys go to the command's terminal as typed, Ctrl-C
// included) for as long as it lives.
class RawTerminal {
public:
  explicit RawTerminal(bool enable) {
    if (!enable || ::tcgetattr(STDIN_FILENO, &saved_) != 0) {
      return;
    }
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
  }
  ~RawTerminal() { restore(); }
  void restore() {
    if (active_) {
      ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_);
      active_ = false;
    }
  }

private:
  termios saved_{};
  bool active_ = false;
};

std::optional<v1::TerminalSize> windowSize() {
  winsize size{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) {
    return std::nullopt;
  }
  v1::TerminalSize out;
  out.set_width(size.ws_col);
  out.set_height(size.ws_row);
  return out;
}

// Sends stdin (with -i) and window size changes (with -t) until stdin ends and/or `stop`
// is readable. The stream's only writer while it runs.
void forwardInput(Client::ExecStreamIo& stream, const Invocation& inv, int winch, int stop) {
  bool stdin_open = inv.interactive;
  char buffer[16 * 1024];
  for (;;) {
    pollfd fds[3] = {{stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                     {inv.tty ? winch : -1, POLLIN, 0},
                     {stop, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) {
      return;
    }
    if (fds[2].revents != 0) {
      return;
    }
    v1::ExecStreamRequest message;
    if (fds[1].revents != 0) {
      (void)!::read(winch, buffer, sizeof(buffer));
      if (auto size = windowSize()) {
        *message.mutable_resize() = *size;
        if (!stream.Write(message)) {
          return;
        }
      }
    }
    if (fds[0].revents != 0) {
      const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n > 0) {
        message.set_stdin(buffer, static_cast<std::size_t>(n));
      } else {
        message.set_close_stdin(true);
        stdin_open = false;
      }
      if (!stream.Write(message)) {
        return;
      }
    }
  }
}

v1::ExecStreamRequest startMessage(const Invocation& inv) {
  v1::ExecStreamRequest first;
  auto* start = first.mutable_start();
  start->set_namespace_(inv.ns);
  start->set_id(inv.name);
  *start->mutable_argv() = inv.spec.argv();
  start->set_tty(inv.tty);
  start->set_stdin(inv.interactive);
  start->set_timeout_ms(inv.timeout_ms);
  if (inv.tty) {
    if (auto size = windowSize()) {
      *start->mutable_size() = *size;
    }
  }
  return first;
}

void writeAll(int fd, const std::string& data) {
  std::string_view rest = data;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

int runExecStream(Client& client, const Invocation& inv) {
  int winch[2];
  int stop[2];
  if (::pipe2(winch, O_CLOEXEC | O_NONBLOCK) != 0 || ::pipe2(stop, O_CLOEXEC) != 0) {
    std::perror("contctl: pipe");
    return kExitServer;
  }
  const UniqueFd winch_read(winch[0]), winch_write(winch[1]);
  const UniqueFd stop_read(stop[0]), stop_write(stop[1]);
  g_winch_fd = winch_write.get();
  struct sigaction action {};
  action.sa_handler = onWinch;
  ::sigaction(SIGWINCH, &action, nullptr);

  grpc::ClientContext context;
  auto stream = client.execStream(&context);
  stream->Write(startMessage(inv));
  RawTerminal raw(inv.tty && inv.interactive && ::isatty(STDIN_FILENO) == 1);
  std::thread input(
      [&] { forwardInput(*stream, inv, winch_read.get(), stop_read.get()); });

  std::optional<v1::ExecExit> exit;
  v1::ExecStreamResponse response;
  while (!exit && stream->Read(&response)) {
    if (response.has_exit()) {
      exit = response.exit();
    } else {
      writeAll(response.has_stderr() ? STDERR_FILENO : STDOUT_FILENO,
               response.has_stderr() ? response.stderr() : response.stdout());
    }
  }
  (void)!::write(stop_write.get(), "x", 1);
  input.join();
  stream->WritesDone();
  const Status finished = Client::toStatus(stream->Finish());
  raw.restore();
  if (!exit) {
    printError(inv, finished ? std::string("exec: the stream ended without an exit")
                             : finished.error().message);
    return kExitServer;
  }
  if (exit->timed_out()) {
    std::fprintf(stderr, "contctl: exec timed out after %llu ms and was killed\n",
                 static_cast<unsigned long long>(inv.timeout_ms));
    return kExitTimedOut;
  }
  return exit->exit_code();
}

}  // namespace contd::contctl
