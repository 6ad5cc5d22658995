// contd-shim-logs: containerd's binary:// log driver for contd's containers.
//
// The runc shim starts it as `contd-shim-logs k1 v1 k2 v2 …` (the URI's query) with only
// CONTAINER_ID and CONTAINER_NAMESPACE in the environment, the container's stdout pipe on
// fd 3, its stderr pipe on fd 4, and a pipe on fd 5 that we close once ready: the shim's
// task Create waits for that, with no timeout. See docs/logs.md.
//
// Rules, in order (Mesos logrotate.cpp: "prioritizing clearing the STDIN pipe … over log
// fidelity"):
//   1. Never block or kill the container: keep reading both pipes whatever happens to the
//      file or the arguments; what cannot be written is dropped and counted.
//   2. Exit exactly when both pipes reach EOF: the shim closes its write ends at task
//      Delete and sends SIGTERM at almost the same moment. Dying on SIGTERM would lose the
//      tail still in the pipes; lingering after EOF would make Delete wait 12 s. So SIGTERM
//      is ignored and EOF decides.
//   3. Stay small: one thread, poll(), one read per ready pipe and one write per round.

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shim/cri_format.h"
#include "shim/journal.h"
#include "shim/log_file.h"
#include "shim/options.h"

namespace contd::shim {
namespace {

constexpr int kStdoutFd = 3;
constexpr int kStderrFd = 4;
constexpr int kReadyFd = 5;
// One read per ready pipe per round: the default pipe capacity, so a full pipe empties at once.
constexpr std::size_t kReadSize = 64 * 1024;

char read_buffer[kReadSize];

std::int64_t monotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool isOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

// Reads both pipes until both reach EOF. With no file (bad arguments), the bytes are only
// counted: the container must still be able to write.
void pump(LogFile* file, std::uint64_t& discarded) {
  pollfd fds[2] = {{kStdoutFd, POLLIN, 0}, {kStderrFd, POLLIN, 0}};
  LineFramer framers[2] = {LineFramer(Stream::kStdout), LineFramer(Stream::kStderr)};
  int open_count = 0;
  for (pollfd& p : fds) {
    if (isOpen(p.fd)) {
      ++open_count;
    } else {
      p.fd = -1;
    }
  }
  TimestampFormatter formatter;
  char stamp[kTimestampLength];
  std::string batch;
  batch.reserve(2 * (kReadSize + kReadSize / 2));
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      continue;  // EINTR; nothing else can fail with two valid entries
    }
    formatter.format(TimestampFormatter::now(), stamp);
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      const ssize_t n = ::read(fds[i].fd, read_buffer, kReadSize);
      if (n > 0) {
        if (file != nullptr) {
          framers[i].feed(std::string_view(read_buffer, static_cast<std::size_t>(n)), stamp,
                          batch);
        } else {
          discarded += static_cast<std::uint64_t>(n);
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        framers[i].finish(stamp, batch);  // EOF: a last line without newline is complete
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
    if (file != nullptr && !batch.empty()) {
      file->write(batch, monotonicMs());
      batch.clear();
    }
  }
}

int run(int argc, char** argv) {
  // Nothing of whoever started containerd may leak further, and a broken journal socket
  // must not kill us.
  ::close_range(kReadyFd + 1, ~0U, 0);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);  // rule 2: EOF, not SIGTERM, ends us
  std::signal(SIGHUP, SIG_IGN);

  const char* ns = std::getenv("CONTAINER_NAMESPACE");
  const char* id = std::getenv("CONTAINER_ID");
  JournalReporter reporter(ns != nullptr ? ns : "", id != nullptr ? id : "");
  std::vector<std::string_view> args(argv + 1, argv + argc);
  Result<Options> options = parseOptions(args, ns, id);

  std::optional<LogFile> file;
  if (options) {
    file.emplace(*options, reporter);
    file->open(monotonicMs());  // a failure starts an episode; writes retry the open
  } else {
    reporter.report(3, "bad arguments, discarding the container's output: " +
                           options.error().message);
  }
  ::close(kReadyFd);  // ready: the shim's task Create goes on

  std::uint64_t discarded = 0;
  pump(file ? &*file : nullptr, discarded);
  if (file) {
    file->close();
  } else if (discarded > 0) {
    reporter.report(3, "discarded " + std::to_string(discarded) + " bytes of output");
  }
  return 0;
}

}  // namespace
}  // namespace contd::shim

// libstdc++'s default terminate handler prints the demangled type of an uncaught exception;
// linking it statically brings the whole demangler (about 50 KB of text, a fifth of this
// process's memory). Nobody would read that message (stderr is /dev/null), so a handler of
// our own that only aborts replaces it; libstdc++ pulls vterminate.o in only for this symbol.
namespace __gnu_cxx {
void __verbose_terminate_handler() { std::abort(); }
}  // namespace __gnu_cxx

int main(int argc, char** argv) { return contd::shim::run(argc, argv); }
