#pragma once
// One contd per containerd: an exclusive flock on a lock file derived from containerd's
// socket, held for the daemon's life and naming its pid. Two contds on one containerd would
// both restart, reconcile and remove the same containers.
//
// The file is `<containerd socket>.contd.lock` beside the socket (after resolving symlinks,
// so two spellings of one socket share it): every contd of that containerd finds it, and a
// containerd of its own (a test's) brings its own. The kernel drops the lock when the
// process ends, however it ends; the file stays, and its stale pid means nothing without
// the lock.

#include <string>
#include <string_view>

#include "modules/common/result.h"
#include "modules/common/unique_fd.h"

namespace contd::daemon {

// `<containerd socket>` + `suffix`, the socket's symlinks resolved: where contd keeps what
// belongs to one containerd (the lock; the shim keeper's files, ".contd-keeper").
std::string besideContainerd(const std::string& socket_path, std::string_view suffix);

// The lock file of containerd's socket `socket_path`.
std::string containerdLockPath(const std::string& socket_path);

// Takes the lock of `socket_path` and writes this process's pid into it; the lock lasts as
// long as the returned fd is open. Errors: kFailedPrecondition when another process holds
// it, naming its pid ("another contd (pid 4242) already drives containerd at '...'"),
// or the failing call.
Result<UniqueFd> lockContainerd(const std::string& socket_path);

}  // namespace contd::daemon
