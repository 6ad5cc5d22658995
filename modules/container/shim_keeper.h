#pragma once
// Keeps a grouped shim alive between containers (docs/recovery.md, "Grouped shims and their
// keeper"; docs/decisions/shim-keeper.md).
//
// containerd's runc shim exits when the last container it serves is deleted (its Shutdown
// returns early only while it has containers). With shim_group "namespace", a namespace
// whose containers come and go one at a time (run to completion, a container per request)
// would start and stop a shim per container and lose what grouping is for. So ensure(ns),
// called before a grouped container's task is created, makes sure the namespace's group
// holds one more container: the keeper, a record named kKeeperId without contd's managed
// label (so no contd call lists or touches it) whose only process, contd-keeper, waits for
// a signal. It uses the same runtime as the container that asked, has no stdio, no log,
// no capabilities, its own namespaces, a read-only root and a pids limit of 1.
//
// A keeper nobody asked for during `keepalive` is removed (SIGTERM, task and record
// deleted); the next grouped Run makes it again. A keepalive of 0 turns keepers off (those
// left are removed at the next check). A keeper outlives contd like any container; adopt()
// at start-up takes over those of a previous contd and gives them a fresh keepalive.
//
// Failures never fail the caller's Run: the keeper is an optimisation, and its errors are
// logged (op=keeper).
//
// Thread-safety: any thread; the work itself is done on one thread of its own.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "modules/common/record_schema.h"
#include "modules/common/result.h"
#include "modules/container/scheduler.h"
#include "modules/containerd/client.h"

namespace contd::container {

struct KeeperOptions {
  std::filesystem::path binary;  // contd-keeper (statically linked)
  // A folder contd owns; the keeper's read-only root is made inside it (keeper_root/rootfs).
  std::filesystem::path root;
  std::chrono::milliseconds keepalive{60000};
  // How long a seen keeper is trusted before ensure() asks containerd again.
  std::chrono::milliseconds recheck{1000};
};

// The OCI spec of the keeper of `ns`, its files under `keeper_root` (exposed for tests).
nlohmann::json keeperSpec(std::string_view ns, const std::filesystem::path& keeper_root);

class ShimKeeper {
public:
  ShimKeeper(containerd::Client& client, KeeperOptions options);
  ~ShimKeeper();
  ShimKeeper(const ShimKeeper&) = delete;
  ShimKeeper& operator=(const ShimKeeper&) = delete;

  // Makes sure the keeper of `ns` runs, with `runtime_binary` (a record's runtime_binary:
  // "" for runc) when it has to be made. Returns at once: a keeper not seen running within
  // `recheck` is looked for, and made when missing, on the keeper's own thread, so no Run
  // waits for it. Never fails the caller: errors are logged.
  void ensure(std::string_view ns, const std::string& runtime_binary);
  // Takes over the keepers a previous contd left (one per namespace at most), on the
  // keeper's thread: start-up does not wait for the namespaces to be looked through.
  void adopt();
  // A negative keepalive counts as 0.
  void setKeepalive(std::chrono::milliseconds keepalive) {
    keepalive_ms_ = std::max<std::int64_t>(keepalive.count(), 0);
  }
  // The keepers made and removed by this object (for tests and logs).
  std::uint64_t made() const { return made_; }
  std::uint64_t removed() const { return removed_; }

private:
  struct Seen {
    std::chrono::steady_clock::time_point last_used;  // last ensure (or adoption)
    std::chrono::steady_clock::time_point checked;    // last time containerd said it runs
    bool running = false;
    bool pending = false;  // a check() is posted
    bool expiry_scheduled = false;
  };

  // On the keeper's thread, as every step below: the keeper of `ns` runs afterwards.
  void check(const std::string& ns, const std::string& runtime_binary);
  void adoptNow();
  Status start(std::string_view ns, const std::string& runtime_binary);
  Status prepareRoot() const;
  void scheduleExpiry(const std::string& ns, std::chrono::steady_clock::time_point at);
  void expire(const std::string& ns);
  Status remove(std::string_view ns);

  containerd::Client& client_;
  const KeeperOptions options_;
  std::atomic<std::int64_t> keepalive_ms_;
  std::atomic<std::uint64_t> made_{0};
  std::atomic<std::uint64_t> removed_{0};
  std::mutex mu_;  // guards seen_
  std::map<std::string, Seen, std::less<>> seen_;
  // One thread does all the work (check, expire), so the steps for a namespace never
  // overlap. Last member: its thread stops before the rest goes.
  Scheduler scheduler_{1};
};

}  // namespace contd::container
