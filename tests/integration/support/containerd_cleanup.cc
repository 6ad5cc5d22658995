#include "tests/integration/support/containerd_cleanup.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

namespace contd::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kCgroupRoot[] = "/sys/fs/cgroup";
constexpr char kRuncRoot[] = "/run/containerd/runc";

void keepFirst(Status& first, Status next) {
  if (first && !next) {
    first = std::move(next);
  }
}

Status rmdirIfPresent(const fs::path& dir) {
  // rmdir(2) in a read-only folder fails with EROFS before it looks for the name, and
  // systemd mounts the cgroup v1 root (a tmpfs) read-only: look first.
  std::error_code ec;
  if (fs::symlink_status(dir, ec).type() == fs::file_type::not_found) {
    return okStatus();
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return internalError("rmdir '" + dir.string() + "': " + std::strerror(errno));
  }
  return okStatus();
}

}  // namespace

Status removeHostLeftovers(std::string_view ns) {
  if (ns.empty() || ns == "." || ns == ".." || ns.find('/') != std::string_view::npos) {
    return invalidArgument("remove leftovers of namespace '" + std::string(ns) +
                           "': not a single path component");
  }
  Status first = okStatus();
  std::error_code ec;
  // On cgroup v1 every controller has its own hierarchy (cpu, memory, name=systemd, ...);
  // on v2 the loop sees only plain files and the unified root itself.
  for (const auto& entry : fs::directory_iterator(kCgroupRoot, ec)) {
    if (entry.is_directory(ec)) {
      keepFirst(first, rmdirIfPresent(entry.path() / ns));
    }
  }
  keepFirst(first, rmdirIfPresent(fs::path(kCgroupRoot) / ns));
  keepFirst(first, rmdirIfPresent(fs::path(kRuncRoot) / ns));
  return first;
}

Status purgeNamespace(containerd::Client& client, std::string_view ns,
                      std::chrono::milliseconds wait_timeout) {
  Status first = okStatus();
  auto ignoreNotFound = [](Status s) {
    return !s && s.error().code == Code::kNotFound ? okStatus() : s;
  };

  auto tasks = client.listTasks(ns);
  if (!tasks) {
    keepFirst(first, tasks.error());
  } else {
    for (const auto& task : *tasks) {
      if (task.status != containerd::TaskStatus::kStopped) {
        // kNotFound: "process already finished", which is what we want.
        keepFirst(first, ignoreNotFound(client.killTask(ns, task.id, SIGKILL, /*all=*/true)));
        if (auto exit = client.waitTask(ns, task.id, wait_timeout);
            !exit && exit.error().code != Code::kNotFound) {
          keepFirst(first, exit.error());
        }
      }
      if (auto deleted = client.deleteTask(ns, task.id);
          !deleted && deleted.error().code != Code::kNotFound) {
        keepFirst(first, deleted.error());
      }
    }
  }

  auto containers = client.listContainers(ns, {});
  if (!containers) {
    keepFirst(first, containers.error());
  } else {
    for (const auto& record : *containers) {
      keepFirst(first, ignoreNotFound(client.deleteContainer(ns, record.id)));
    }
  }

  keepFirst(first, removeHostLeftovers(ns));
  return first;
}

}  // namespace contd::testing
