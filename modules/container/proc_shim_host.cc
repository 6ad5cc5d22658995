#include "modules/container/proc_shim_host.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "modules/common/proc_file.h"
#include "modules/common/record_schema.h"
#include "modules/container/bundle_removal.h"
#include "modules/container/containerd_state.h"
#include "modules/container/shim_children.h"
#include "modules/container/stale_bundle.h"
#include "modules/container/stuck_logger.h"

extern char** environ;

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// containerd-shim-runc-v2's default runc root (runtime/v2/runc: process.RuncRoot).
constexpr char kDefaultRuncRoot[] = "/run/containerd/runc";

fs::path resolvedPath(const fs::path& path) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(path, ec);
  return ec ? path : out;
}

// A folder's path as resolvedPath gives it, without a trailing '/' (the log driver takes
// its log_root either way).
fs::path resolvedDir(const fs::path& path) {
  fs::path out = resolvedPath(path);
  return out.has_filename() ? out : out.parent_path();
}

// ns, id and address of a shim daemon's command line; nullopt for anything else (other
// programs, and the shim's short-lived `start` and `delete` runs).
std::optional<HostShim> parseShim(const std::vector<std::string>& args, std::string& address) {
  if (args.empty() || fs::path(args[0]).filename().string().rfind("containerd-shim-", 0) != 0) {
    return std::nullopt;
  }
  HostShim shim;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "-namespace" && has_value) {
      shim.ns = args[++i];
    } else if (args[i] == "-id" && has_value) {
      shim.id = args[++i];
    } else if (args[i] == "-address" && has_value) {
      address = args[++i];
    } else if (args[i] == "-publish-binary" && has_value) {
      ++i;
    } else if (args[i].empty() || args[i][0] != '-') {
      return std::nullopt;  // an action: start, delete
    }
  }
  if (shim.ns.empty() || shim.id.empty()) {
    return std::nullopt;
  }
  return shim;
}

// What a bundle's config.json says. containerd 1.6 writes it with a plain os.WriteFile as
// the last step of making a bundle, so a kill -9 of containerd can leave it empty or cut
// short: only a whole JSON document counts as written.
struct BundleConfig {
  bool written = false;
  bool made_by_contd = false;  // carries contd's spec annotation
};

BundleConfig readBundleConfig(const fs::path& bundle) {
  auto config = nlohmann::json::parse(readProcFile(bundle / "config.json"), nullptr, false);
  BundleConfig out;
  out.written = config.is_object();
  out.made_by_contd = out.written && config.contains("annotations") &&
                      config["annotations"].is_object() &&
                      config["annotations"].contains(kSpecAnnotation);
  return out;
}

// Gone, or a zombie nobody reaped yet.
bool processGone(const fs::path& pid_dir) {
  const auto stat = readProcStat(pid_dir);
  return !stat || stat->state == 'Z';
}

pid_t parentPid(const fs::path& proc, pid_t pid) {
  const auto stat = readProcStat(proc / std::to_string(pid));
  return stat ? stat->parent : 0;
}

bool isAnyRuncShim(const fs::path& proc, pid_t pid) {
  std::error_code ec;
  return fs::read_symlink(proc / std::to_string(pid) / "exe", ec).filename() ==
         "containerd-shim-runc-v2";
}

void killAndWait(const fs::path& pid_dir, pid_t pid) {
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 200 && !processGone(pid_dir); ++i) {
    std::this_thread::sleep_for(10ms);
  }
}

// Runs argv (argv[0] looked up on PATH), output discarded; its exit status, or -1.
int runProgram(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t child = 0;
  const int rc = posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return -1;
  }
  int status = 0;
  for (int i = 0; i < 1000; ++i) {  // 10 s
    if (::waitpid(child, &status, WNOHANG) == child) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(10ms);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  return -1;
}

bool isMountPoint(const fs::path& path) {
  struct stat self {};
  struct stat parent {};
  return ::stat(path.c_str(), &self) == 0 &&
         ::stat(path.parent_path().c_str(), &parent) == 0 && self.st_dev != parent.st_dev;
}

// The OCI runtime of the bundle's task and its state root, from the runc options the shim
// keeps in options.json (binary_name, root), else the shim's defaults (runc, its root).
struct TaskRuntime {
  std::string binary = "runc";
  fs::path root = kDefaultRuncRoot;
};

TaskRuntime taskRuntime(const fs::path& bundle) {
  TaskRuntime out;
  if (bundle.empty()) {
    return out;
  }
  auto options = nlohmann::json::parse(readProcFile(bundle / "options.json"), nullptr, false);
  if (options.is_object()) {
    if (auto root = options.find("root"); root != options.end() && root->is_string() &&
                                          !root->get<std::string>().empty()) {
      out.root = root->get<std::string>();
    }
    if (auto binary = options.find("binary_name"); binary != options.end() &&
                                                   binary->is_string() &&
                                                   !binary->get<std::string>().empty()) {
      out.binary = binary->get<std::string>();
    }
  }
  return out;
}

}  // namespace

ProcShimHost::ProcShimHost(fs::path containerd_address, fs::path log_shim, fs::path log_root,
                           fs::path proc)
    : address_(resolvedPath(containerd_address)),
      log_shim_(std::move(log_shim)),
      log_root_(resolvedDir(log_root)),
      proc_(std::move(proc)) {}

std::vector<HostShim> ProcShimHost::shims() {
  std::vector<HostShim> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(proc_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::string address;
    auto shim = parseShim(readProcStrings(entry.path() / "cmdline"), address);
    if (!shim || resolvedPath(address) != address_) {
      continue;
    }
    shim->pid = static_cast<pid_t>(std::atoi(name.c_str()));
    std::error_code link_ec;
    fs::path cwd = fs::read_symlink(entry.path() / "cwd", link_ec);
    if (!link_ec && fs::is_directory(cwd)) {
      shim->bundle = cwd;
      const BundleConfig config = readBundleConfig(cwd);
      shim->made_by_contd = config.made_by_contd;
      shim->has_config = config.written;
    }
    found.push_back(std::move(*shim));
  }
  // One scan for every shim's children (a grouped shim serves other containers).
  std::set<pid_t> pids;
  for (const auto& shim : found) {
    pids.insert(shim.pid);
  }
  const auto children = childrenOf(proc_, pids);
  for (auto& shim : found) {
    const auto own = children.find(shim.pid);
    shim.serves_others = own != children.end() &&
                         servesOtherContainers(proc_, own->second, shim.ns, shim.id);
  }
  return found;
}

std::vector<HostBundle> ProcShimHost::bundles() {
  std::vector<HostBundle> found;
  const auto state = containerdStateDir(address_, proc_);
  if (!state) {
    return found;
  }
  std::error_code ec;
  for (const auto& ns_dir : fs::directory_iterator(*state / kTaskBundleDir, ec)) {
    if (!ns_dir.is_directory() || ns_dir.is_symlink()) {
      continue;
    }
    std::error_code inner;
    for (const auto& dir : fs::directory_iterator(ns_dir.path(), inner)) {
      const std::string id = dir.path().filename().string();
      if (id.empty() || id[0] == '.' || !dir.is_directory() || dir.is_symlink()) {
        continue;  // containerd's atomicDelete leaves hidden dirs while it removes them
      }
      const BundleConfig config = readBundleConfig(dir.path());
      found.push_back({.ns = ns_dir.path().filename().string(),
                       .id = id,
                       .path = dir.path(),
                       .made_by_contd = config.made_by_contd,
                       .has_config = config.written});
    }
  }
  return found;
}

std::vector<HostLogger> ProcShimHost::loggers() {
  // The contd log drivers on the host that write under this contd's log root, less those
  // under another containerd's shim. A second contd on the host runs the same driver
  // binary: its drivers name its own log root (two daemons sharing one would write the
  // same files) and are not this contd's to end, even when their shim is gone.
  std::set<pid_t> ours;
  for (const auto& shim : shims()) {
    ours.insert(shim.pid);
  }
  auto all = findAllLoggers(log_shim_, proc_);
  std::set<pid_t> drivers;
  for (const auto& logger : all) {
    drivers.insert(logger.pid);
  }
  std::vector<HostLogger> found;
  for (auto& logger : all) {
    if (resolvedDir(logger.log_root) != log_root_) {
      continue;
    }
    pid_t above = parentPid(proc_, logger.pid);
    if (drivers.count(above) != 0) {
      above = parentPid(proc_, above);  // the writer's parent is the holder
    }
    if (ours.count(above) == 0 && above > 1 && isAnyRuncShim(proc_, above)) {
      continue;
    }
    found.push_back(std::move(logger));
  }
  return found;
}

void ProcShimHost::endLogger(const HostLogger& logger) {
  killAndWait(proc_ / std::to_string(logger.pid), logger.pid);
}

Status ProcShimHost::removeBundle(std::string_view ns, std::string_view id,
                                  const fs::path& bundle) {
  return removeTaskBundle(ns, id, bundle);
}

Status ProcShimHost::endShim(const HostShim& shim) {
  const fs::path pid_dir = proc_ / std::to_string(shim.pid);
  std::string address;
  auto still = parseShim(readProcStrings(pid_dir / "cmdline"), address);
  if (still && still->ns == shim.ns && still->id == shim.id) {
    killAndWait(pid_dir, shim.pid);
  }
  const std::string what = "shim of '" + shim.id + "' in '" + shim.ns + "'";
  // The container's processes (a `runc init` waiting to be started, or more), its cgroup
  // and the runtime's state: the runtime (runc or crun, as the shim ran it) knows them all.
  const TaskRuntime runtime = taskRuntime(shim.bundle);
  const fs::path state = runtime.root / shim.ns / shim.id;
  if (fs::exists(state) && runProgram({runtime.binary, "--root", (runtime.root / shim.ns).string(),
                                       "delete", "--force", shim.id}) != 0) {
    return internalError("end the " + what + ": " + runtime.binary +
                         " delete --force failed, state left in " + state.string());
  }
  if (shim.bundle.empty() || !fs::exists(shim.bundle)) {
    return okStatus();
  }
  const fs::path rootfs = shim.bundle / "rootfs";
  for (int i = 0; i < 8 && isMountPoint(rootfs); ++i) {
    ::umount2(rootfs.c_str(), MNT_DETACH);
  }
  if (isMountPoint(rootfs)) {
    return internalError("end the " + what + ": " + rootfs.string() + " stays mounted");
  }
  // The shim's socket (unix://<path>) and the bundle's work dir, as containerd's
  // Bundle.Delete and shim cleanup remove them.
  std::string socket = readProcFile(shim.bundle / "address");
  if (socket.rfind("unix://", 0) == 0) {
    std::error_code ec;
    fs::remove(socket.substr(7), ec);
  }
  std::error_code ec;
  const fs::path work = fs::read_symlink(shim.bundle / "work", ec);
  if (!ec) {
    fs::remove_all(work, ec);
  }
  fs::remove_all(shim.bundle, ec);
  if (ec) {
    return internalError("end the " + what + ": remove " + shim.bundle.string() + ": " +
                         ec.message());
  }
  return okStatus();
}

}  // namespace contd::container
