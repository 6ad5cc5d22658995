#include "modules/api_server/unix_listener.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>

#include "modules/common/logging.h"

namespace contd::api {
namespace {

constexpr int kBacklog = 128;
// How long the accept loop rests when the process is out of fds: poll() would report the
// pending connection again at once and spin otherwise.
constexpr int kFdExhaustedPauseMs = 100;

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

Result<sockaddr_un> unixAddress(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string& text = path.native();
  if (text.empty() || text.size() >= sizeof(addr.sun_path)) {
    return invalidArgument("socket path " + quoted(path) + ": must be 1 to " +
                           std::to_string(sizeof(addr.sun_path) - 1) + " bytes long");
  }
  std::memcpy(addr.sun_path, text.c_str(), text.size() + 1);
  return addr;
}

void closeFd(int fd) {
  if (fd >= 0) {
    ::close(fd);
  }
}

// A group name, or a number taken as a gid as it is.
Result<gid_t> resolveGroup(const std::string& group) {
  gid_t gid = 0;
  const char* end = group.data() + group.size();
  if (auto [ptr, ec] = std::from_chars(group.data(), end, gid); ec == std::errc() && ptr == end) {
    return gid;
  }
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  int err = 0;
  while ((err = ::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
             ERANGE &&
         buffer.size() < (1U << 20)) {
    buffer.resize(buffer.size() * 4);
  }
  if (err != 0) {
    return sysError("look up group '" + group + "'", err);
  }
  if (found == nullptr) {
    return invalidArgument("socket group '" + group + "': no such group");
  }
  return entry.gr_gid;
}

// mkdir -p with mode 0755 for every folder it creates: clients of the group must be able
// to reach the socket whatever the daemon's umask is.
Status makeParentFolders(const std::filesystem::path& folder) {
  std::filesystem::path prefix;
  for (const auto& part : folder) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0755) == 0) {
      if (::chmod(prefix.c_str(), 0755) != 0) {
        return sysError("chmod " + quoted(prefix), errno);
      }
    } else if (errno != EEXIST) {
      return sysError("mkdir " + quoted(prefix), errno);
    }
  }
  return okStatus();
}

// A socket file left by a process that is gone refuses connections: remove it. One that
// accepts belongs to a live server (another contd): refuse to steal it.
Status removeStaleSocket(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? okStatus() : sysError("stat " + quoted(path), errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return invalidArgument("socket path " + quoted(path) + ": exists and is not a socket");
  }
  auto addr = unixAddress(path);
  if (!addr) {
    return addr.error();
  }
  // Non-blocking: a live server with a full backlog answers EAGAIN instead of making us wait.
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (probe < 0) {
    return sysError("socket", errno);
  }
  const int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  const int err = errno;
  closeFd(probe);
  if (rc == 0 || err == EAGAIN) {
    return alreadyExists("socket " + quoted(path) + ": another process accepts connections on it");
  }
  if (err != ECONNREFUSED && err != ENOENT) {
    return sysError("probe socket " + quoted(path), err);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sysError("remove stale socket " + quoted(path), errno);
  }
  log::api()->info("removed stale socket path={}", path.string());
  return okStatus();
}

// Binds under a temporary name, sets mode and group, listens, then renames onto the final
// path: the socket never exists at its public path with the umask's permissions or the
// wrong group, whatever the umask is. (When the temporary name would not fit in sun_path
// but the path does, it binds the path directly and chmods right after.)
Result<int> bindAndListen(const std::filesystem::path& path, mode_t mode,
                          std::optional<gid_t> gid) {
  const auto tmp = path.parent_path() / ("." + std::to_string(::getpid()) + ".sock.tmp");
  const bool staged = unixAddress(tmp).ok();
  const auto& bind_path = staged ? tmp : path;
  auto addr = unixAddress(bind_path);
  if (!addr) {
    return addr.error();
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return sysError("socket", errno);
  }
  if (staged) {
    ::unlink(tmp.c_str());
  }
  auto fail = [&](std::string what, int err) -> Result<int> {
    closeFd(fd);
    ::unlink(bind_path.c_str());
    return sysError(what, err);
  };
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    const int err = errno;
    closeFd(fd);  // nothing was bound: nothing to unlink (it may be someone else's file)
    return sysError("bind " + quoted(bind_path), err);
  }
  if (::chmod(bind_path.c_str(), mode) != 0) {
    return fail("chmod " + quoted(bind_path), errno);
  }
  if (gid && ::chown(bind_path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
    return fail("chown " + quoted(bind_path) + " to gid " + std::to_string(*gid), errno);
  }
  if (::listen(fd, kBacklog) != 0) {
    return fail("listen on " + quoted(bind_path), errno);
  }
  if (staged && ::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail("rename " + quoted(tmp) + " to " + quoted(path), errno);
  }
  return fd;
}

int socketOption(int fd, int option) {
  int value = 0;
  socklen_t len = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &len) != 0) {
    return -1;
  }
  return value;
}

}  // namespace

void PeerTable::remember(int fd, PeerCredentials credentials) {
  std::lock_guard lock(mu_);
  by_fd_[fd] = credentials;
}

std::optional<PeerCredentials> PeerTable::lookup(std::string_view grpc_peer) const {
  constexpr std::string_view kPrefix = "fd:";
  if (!grpc_peer.starts_with(kPrefix)) {
    return std::nullopt;
  }
  grpc_peer.remove_prefix(kPrefix.size());
  int fd = -1;
  const char* end = grpc_peer.data() + grpc_peer.size();
  if (auto [ptr, ec] = std::from_chars(grpc_peer.data(), end, fd); ec != std::errc() ||
                                                                    ptr != end) {
    return std::nullopt;
  }
  std::lock_guard lock(mu_);
  auto it = by_fd_.find(fd);
  if (it == by_fd_.end()) {
    return std::nullopt;
  }
  return it->second;
}

UnixListener::UnixListener(int listen_fd, int wake_fd, std::filesystem::path path, bool owns_path)
    : listen_fd_(listen_fd), wake_fd_(wake_fd), path_(std::move(path)), owns_path_(owns_path) {
  struct stat st {};
  if (owns_path_ && ::stat(path_.c_str(), &st) == 0) {
    socket_inode_ = st.st_ino;
  }
}

Result<std::unique_ptr<UnixListener>> UnixListener::bindPath(const UnixListenerOptions& options) {
  const auto& path = options.path;
  if (!path.is_absolute()) {
    return invalidArgument("socket path " + quoted(path) + ": must be absolute");
  }
  if (auto addr = unixAddress(path); !addr) {
    return addr.error();
  }
  std::optional<gid_t> gid;
  if (!options.group.empty()) {
    auto resolved = resolveGroup(options.group);
    if (!resolved) {
      return resolved.error();
    }
    gid = *resolved;
  }
  CONTD_RETURN_IF_ERROR(makeParentFolders(path.parent_path()));
  CONTD_RETURN_IF_ERROR(removeStaleSocket(path));
  // Before the bind, so that nothing can fail once the socket file is in place.
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    return sysError("eventfd", errno);
  }
  auto fd = bindAndListen(path, options.mode, gid);
  if (!fd) {
    closeFd(wake_fd);
    return fd.error();
  }
  return std::unique_ptr<UnixListener>(new UnixListener(*fd, wake_fd, path, true));
}

Result<std::unique_ptr<UnixListener>> UnixListener::fromFd(int listen_fd) {
  if (socketOption(listen_fd, SO_DOMAIN) != AF_UNIX ||
      socketOption(listen_fd, SO_TYPE) != SOCK_STREAM ||
      socketOption(listen_fd, SO_ACCEPTCONN) != 1) {
    return invalidArgument("fd " + std::to_string(listen_fd) +
                           ": not a listening unix stream socket");
  }
  // The accept loop relies on EAGAIN to know the backlog is drained.
  const int flags = ::fcntl(listen_fd, F_GETFL);
  if (flags < 0 || ::fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
      ::fcntl(listen_fd, F_SETFD, FD_CLOEXEC) != 0) {
    return sysError("fcntl fd " + std::to_string(listen_fd), errno);
  }
  sockaddr_un addr{};
  socklen_t len = sizeof(addr);
  std::filesystem::path path;
  if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
      len > offsetof(sockaddr_un, sun_path) && addr.sun_path[0] != '\0') {
    path = std::string(addr.sun_path, ::strnlen(addr.sun_path, sizeof(addr.sun_path)));
  }
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    return sysError("eventfd", errno);
  }
  return std::unique_ptr<UnixListener>(new UnixListener(listen_fd, wake_fd, path, false));
}

UnixListener::~UnixListener() {
  stop();
  closeFd(wake_fd_);
}

Status UnixListener::start(grpc::Server& server) {
  if (thread_.joinable() || stopped_) {
    return failedPrecondition("unix listener: already started or stopped");
  }
  thread_ = std::thread([this, &server] { acceptLoop(server); });
  log::api()->info("listening path={}", path_.empty() ? "(inherited fd)" : path_.string());
  return okStatus();
}

void UnixListener::stop() {
  if (stopped_.exchange(true)) {
    return;
  }
  const std::uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) != sizeof(one)) {
    log::api()->error("wake accept loop: {}", std::strerror(errno));
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  // Closing now, not at destruction, makes clients still in the backlog fail at once.
  closeFd(listen_fd_);
  listen_fd_ = -1;
  // A successor may already have replaced the file with its own socket: leave that alone.
  struct stat st {};
  if (owns_path_ && ::stat(path_.c_str(), &st) == 0 && st.st_ino == socket_inode_) {
    ::unlink(path_.c_str());
  }
}

void UnixListener::acceptLoop(grpc::Server& server) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      log::api()->error("accept loop stopped: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) {
      return;
    }
    if ((fds[1].revents & (POLLERR | POLLNVAL)) != 0) {
      log::api()->error("accept loop stopped: listening socket revents={}", fds[1].revents);
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      acceptPending(server);
    }
  }
}

// Accepts until the backlog is empty.
void UnixListener::acceptPending(grpc::Server& server) {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        return;
      }
      if (err == EINTR || err == ECONNABORTED) {
        continue;
      }
      log::api()->warn("accept: {}", std::strerror(err));
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        // Leave the connection in the backlog and retry later; still wake up for stop().
        pollfd wake{wake_fd_, POLLIN, 0};
        ::poll(&wake, 1, kFdExhaustedPauseMs);
      }
      return;
    }
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      // Every call must be attributable to a peer: refuse a connection we cannot attribute.
      log::api()->warn("refused connection: SO_PEERCRED: {}", std::strerror(errno));
      closeFd(fd);
      continue;
    }
    // Recorded before gRPC sees the fd, so no call on it can run before its entry exists.
    peers_.remember(fd, PeerCredentials{.uid = cred.uid, .gid = cred.gid, .pid = cred.pid});
    log::api()->debug("accepted fd={} peer_uid={} peer_gid={} peer_pid={}", fd, cred.uid,
                      cred.gid, cred.pid);
    grpc::AddInsecureChannelFromFd(&server, fd);  // gRPC owns (and closes) the fd now
  }
}

}  // namespace contd::api
