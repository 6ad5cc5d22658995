#pragma once
// Starting helper processes from integration tests without a shell: no quoting, no
// injection, and no file descriptor of the test process leaks into the child.
//
// Threading: safe to call from any thread. The children are started with fork+exec, and
// between the two the child makes only async-signal-safe calls. That matters because
// gRPC's threads are already running in the test process.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::testing {

struct CommandResult {
  int exit_code = -1;  // the exit status, or 128+signal when a signal killed the command
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr

  bool ok() const { return exit_code == 0; }
};

// Runs argv[0] with the arguments argv[1..]. A name without '/' is looked up on PATH.
// stdin is /dev/null; stdout and stderr are captured. After `timeout` the child is killed
// (SIGKILL, by its pid) and the call fails with kDeadlineExceeded.
// Errors: kInvalidArgument for an empty argv, kNotFound when the program is not on PATH,
// kInternal when fork/pipe fail. A non-zero exit is not an error: check CommandResult.
Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

// As runCommand, but a non-zero exit is an error (kInternal) whose message holds the command
// line, the exit code and stderr. Returns stdout.
Result<std::string> runChecked(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The absolute path of `name` on PATH (executable regular file), or nullopt. A name that
// contains '/' is returned as is when it is executable.
std::optional<std::string> findOnPath(std::string_view name);

// argv as one line for messages: words with spaces or quotes come back quoted.
std::string describeCommand(const std::vector<std::string>& argv);

// How spawnProcess wires the child.
struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  int stdout_fd = -1;             // -1: /dev/null
  int stderr_fd = -1;             // -1: /dev/null
  // Signal the child gets when the thread that spawned it exits (PR_SET_PDEATHSIG), so that
  // a crashed test leaves no daemon behind. 0: none.
  int parent_death_signal = 0;
};

// Starts a child process and returns its pid without waiting for it; the caller owns the
// pid and must reap it (waitpid). stdin is /dev/null; fds 3 and up are closed in the child.
// Errors as for runCommand.
Result<pid_t> spawnProcess(const SpawnOptions& options);

// Reaps child `pid` if it has exited, without blocking: its status (the exit code, or
// 128+signal), or nullopt while it runs. A pid that is no longer our child counts as
// exited with -1.
std::optional<int> reapIfExited(pid_t pid);

// Stops child `pid`: SIGTERM, up to `timeout` for it to exit, then SIGKILL; always reaps it.
// Returns its exit status; *killed tells whether SIGKILL was needed. Errors: kInternal when
// kill(2) fails for another reason than ESRCH.
Result<int> terminateChild(pid_t pid, std::chrono::milliseconds timeout, bool* killed);

// SIGKILL and reap, like `kill -9`. Errors as for terminateChild.
Status killChild(pid_t pid);

}  // namespace contd::testing
