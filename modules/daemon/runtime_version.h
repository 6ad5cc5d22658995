#pragma once
// The version of an OCI runtime, from `<runtime> --version` (Version and Info calls).
// runc prints "runc version 1.1.5+ds1\ncommit: ...", crun "crun version 1.8.1\n...".
//
// Threads: any; RuntimeVersions is thread-safe.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "modules/common/result.h"

namespace contd::daemon {

// The version word of the first line: what follows "version " ("1.1.5+ds1"), else the
// whole first line, trimmed. Errors: kInvalidArgument for output without a first line.
Result<std::string> parseRuntimeVersion(std::string_view output);

// Runs `<runtime> --version` (a name is looked up on PATH, as the shim does) with stdin and
// stderr on /dev/null, reads at most 4 KiB of its stdout, and parses it. A runtime that does
// not end within `timeout` is killed. Errors name the runtime: "runtime 'runc' --version:
// exit status 1".
Result<std::string> readRuntimeVersion(const std::string& runtime,
                                       std::chrono::milliseconds timeout);

// readRuntimeVersion once per runtime, the answer (or the error) kept: the binary is
// replaced only by a package upgrade, which restarts contd.
class RuntimeVersions {
public:
  Result<std::string> of(const std::string& runtime);

private:
  std::mutex mu_;
  std::map<std::string, Result<std::string>> known_;  // guarded by mu_
};

}  // namespace contd::daemon
