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
//
// Supervision (docs/logs.md "Pipeline"): the process containerd starts is a tiny *holder*.
// It closes fd 5 at once, then forks the *writer* (no exec: the two share every page the
// holder never writes, so the second process costs little memory), which inherits fds 3/4
// and does everything above; its name (comm) is "contd-logwriter". The holder never touches
// the data; it keeps its own copies of the pipes' read ends, so a writer that dies loses only
// what it had read and not yet written, and the next writer (forked after a short backoff)
// reads on from the same pipes. The holder exits with the first writer that exits 0 (both
// pipes at EOF). SIGTERM is ignored by both: EOF decides.

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shim/cri_format.h"
#include "shim/drop_filter.h"
#include "shim/health.h"
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

constexpr std::int64_t kHealthIntervalMs = 1000;

// The health file's state: rewritten at most once a second when something changed.
struct HealthFile {
  std::string path;  // empty: none (bad arguments)
  Health current;
  Health written;
  std::uint64_t carried_bytes = 0;  // dropped by earlier writers of this task
  std::uint64_t carried_records = 0;
  bool ever_written = false;
  std::int64_t last_ms = INT64_MIN / 2;

  bool due(std::int64_t now_ms) const {
    return !path.empty() && (!ever_written || !(current == written)) &&
           now_ms - last_ms >= kHealthIntervalMs;
  }
  // Milliseconds poll() may sleep before the file is due, -1: forever.
  int pollTimeout(std::int64_t now_ms) const {
    if (path.empty() || (ever_written && current == written)) {
      return -1;
    }
    const std::int64_t wait = last_ms + kHealthIntervalMs - now_ms;
    return wait <= 0 ? 0 : static_cast<int>(wait);
  }
  void flush(std::int64_t now_ms) {
    last_ms = now_ms;  // a failure (folder gone) is retried a second later
    if (writeHealthFile(path, formatHealth(current))) {
      written = current;
      ever_written = true;
    }
  }
};

// Reads both pipes until both reach EOF. With no file (bad arguments), the bytes are only
// counted: the container must still be able to write.
void pump(LogFile* file, DropFilter* limiter, HealthFile& health, std::uint64_t& discarded) {
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
    if (health.due(monotonicMs())) {
      health.flush(monotonicMs());
    }
    const int ready = ::poll(fds, 2, health.pollTimeout(monotonicMs()));
    if (ready <= 0) {
      continue;  // timeout (health file due) or EINTR
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
    if (limiter != nullptr && !batch.empty()) {
      limiter->filter(batch, monotonicMs());
      health.current.dropped_bytes = health.carried_bytes + limiter->droppedBytes();
      health.current.dropped_records = health.carried_records + limiter->droppedRecords();
    }
    if (file != nullptr && !batch.empty()) {
      file->write(batch, monotonicMs());
      batch.clear();
    }
  }
}

// The writer, in the holder's forked child; `restarts`: writers that died before it.
int writer(int argc, char** argv, std::uint64_t restarts) {
  ::prctl(PR_SET_NAME, "contd-logwriter");
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);  // rule 2: EOF, not SIGTERM, ends us
  std::signal(SIGHUP, SIG_IGN);

  const char* ns = std::getenv("CONTAINER_NAMESPACE");
  const char* id = std::getenv("CONTAINER_ID");
  JournalReporter reporter(ns != nullptr ? ns : "", id != nullptr ? id : "");
  std::vector<std::string_view> args(argv + 1, argv + argc);
  Result<Options> options = parseOptions(args, ns, id);

  std::optional<LogFile> file;
  std::optional<DropFilter> limiter;
  HealthFile health;
  if (options) {
    file.emplace(*options, reporter);
    file->open(monotonicMs());  // a failure starts an episode; writes retry the open
    health.path = options->healthPath();
    health.current.writer_restarts = restarts;
    if (options->policy == Policy::kDrop) {
      limiter.emplace(options->rate);
      health.current.policy = "drop";
    }
    if (restarts > 0) {
      reporter.report(4, "log writer restarted (" + std::to_string(restarts) +
                             " restarts): output the previous writer had read but not "
                             "written is lost");
    }
  } else if (restarts == 0) {
    reporter.report(3, "bad arguments, discarding the container's output: " +
                           options.error().message);
  }
  // What the previous writers dropped is carried on (their counters died with them).
  std::uint64_t& carried_bytes = health.carried_bytes;
  std::uint64_t& carried_records = health.carried_records;
  if (options && restarts > 0) {
    char buffer[256];
    const int fd = ::open(health.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      ::close(fd);
      const std::string_view json(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
      carried_bytes = healthNumber(json, "dropped_bytes").value_or(0);
      carried_records = healthNumber(json, "dropped_records").value_or(0);
    }
  }
  health.current.dropped_bytes = carried_bytes;
  health.current.dropped_records = carried_records;
  if (!health.path.empty()) {
    health.flush(monotonicMs());
  }

  std::uint64_t discarded = 0;
  pump(file ? &*file : nullptr, limiter ? &*limiter : nullptr, health, discarded);
  if (limiter) {
    health.current.dropped_bytes = carried_bytes + limiter->droppedBytes();
    health.current.dropped_records = carried_records + limiter->droppedRecords();
  }
  if (!health.path.empty() && (!health.ever_written || !(health.current == health.written))) {
    health.flush(monotonicMs());
  }
  if (file) {
    file->close();
  } else if (discarded > 0) {
    reporter.report(3, "discarded " + std::to_string(discarded) + " bytes of output");
  }
  return 0;
}

void sleepMs(std::int64_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// The holder: what containerd starts. Never reads the pipes; keeps them open and keeps a
// writer running until one exits 0.
int holder(int argc, char** argv) {
  // Nothing of whoever started containerd may leak further.
  ::close_range(kReadyFd + 1, ~0U, 0);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);  // the writer drains to EOF; we follow it
  std::signal(SIGHUP, SIG_IGN);
  ::close(kReadyFd);  // ready: the shim's task Create goes on; the pipes buffer meanwhile

  std::uint64_t restarts = 0;
  unsigned quick_failures = 0;
  for (;;) {
    const std::int64_t started = monotonicMs();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::_exit(writer(argc, argv, restarts));
    }
    if (pid > 0) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;  // both pipes at EOF
      }
      ++restarts;  // died by a signal or failed: what it had read and not written is lost
    }
    // Backoff: 50 ms after a writer that ran for a while, doubling up to 3.2 s while they
    // keep dying within a second.
    quick_failures = monotonicMs() - started < 1000 ? std::min(quick_failures + 1, 7u) : 0;
    sleepMs(quick_failures == 0 ? 50 : 25LL << quick_failures);
  }
}

int run(int argc, char** argv) { return holder(argc, argv); }

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
