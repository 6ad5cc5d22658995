#pragma once
// Serves a grpc::Server on a unix socket with our own accept loop, so that every
// connection's peer credentials (SO_PEERCRED: uid, gid, pid) are known to the call
// handlers.
//
// How a handler finds its caller: gRPC names a connection added with
// grpc::AddInsecureChannelFromFd after its file descriptor, and ServerContext::peer()
// returns that name ("fd:12", measured with gRPC 1.51). The listener records the
// credentials under the fd number *before* handing the fd to gRPC, so the entry exists
// before any call on it can be served. gRPC keeps the fd open while any call on the
// connection is in flight (measured: a handler that outlives its client still sees its fd
// open, and new connections get other numbers), so during a handler the number cannot be
// reused by another connection; a reused number overwrites the stale entry at accept.
// The credentials are those of the process that called connect(), fixed at that moment.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "modules/common/result.h"

namespace grpc {
class Server;
}

namespace contd::api {

struct PeerCredentials {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int32_t pid = 0;

  bool operator==(const PeerCredentials&) const = default;
};

// The credentials of live connections, keyed by the fd number gRPC names them after.
// Thread-safe: the accept thread writes, gRPC handler threads read.
class PeerTable {
public:
  void remember(int fd, PeerCredentials credentials);
  // `grpc_peer` is ServerContext::peer(). nullopt for a peer that is not "fd:<n>" (a channel
  // the listener did not accept) or an fd it never recorded.
  std::optional<PeerCredentials> lookup(std::string_view grpc_peer) const;

private:
  mutable std::mutex mu_;
  std::unordered_map<int, PeerCredentials> by_fd_;
};

struct UnixListenerOptions {
  std::filesystem::path path = "/run/contd/contd.sock";
  // Group owning the socket: a group name or a numeric gid. Empty: the process's group.
  std::string group;
  // Owner and group may connect; nobody else.
  mode_t mode = 0660;
};

// Threads: bindPath/fromFd/start/stop from the owner's thread (the daemon's main thread);
// the accept loop runs on a thread of its own; peers() may be read from any thread.
class UnixListener {
public:
  // Creates the socket at options.path: makes the parent folder (0755) if missing,
  // removes a stale socket file (one nobody accepts on), binds, sets mode and group, and
  // listens. Errors: kAlreadyExists when another process accepts on the path,
  // kInvalidArgument for a path too long for a unix socket, a non-socket file in the way or
  // an unknown group, kInternal/kNotFound for failed syscalls (named in the message).
  static Result<std::unique_ptr<UnixListener>> bindPath(const UnixListenerOptions& options);
  // Takes ownership of an already-listening unix stream socket (systemd socket
  // activation). kInvalidArgument when `listen_fd` is not one; on any error the fd stays
  // the caller's. The socket file is never removed by this listener.
  static Result<std::unique_ptr<UnixListener>> fromFd(int listen_fd);

  ~UnixListener();  // stop(), then closes the socket
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;

  // Starts the accept thread, which hands every connection to `server` (built and started,
  // with no listening ports of its own). `server` must outlive stop(). Call once.
  Status start(grpc::Server& server);
  // Stops accepting and joins the accept thread; connections already handed to gRPC are
  // not touched (stop the grpc::Server for that). Removes the socket file if bindPath made
  // it and it is still ours. Idempotent; any thread except the accept thread.
  void stop();

  const PeerTable& peers() const { return peers_; }
  // The socket's path; empty for an adopted fd whose name is unknown.
  const std::filesystem::path& path() const { return path_; }

private:
  UnixListener(int listen_fd, int wake_fd, std::filesystem::path path, bool owns_path);
  void acceptLoop(grpc::Server& server);
  void acceptPending(grpc::Server& server);

  int listen_fd_;
  int wake_fd_;  // eventfd: written once by stop() to end the accept loop's poll
  std::filesystem::path path_;
  bool owns_path_;
  ino_t socket_inode_ = 0;  // to unlink our own socket file only, never a successor's
  PeerTable peers_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace contd::api
