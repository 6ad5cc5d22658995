#include "modules/container/stale_execs.h"

#include <signal.h>

#include <charconv>
#include <chrono>
#include <map>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "modules/common/logging.h"
#include "modules/common/names.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

struct ExecKey {
  std::string ns;
  std::string id;
  std::string exec_id;
  auto operator<=>(const ExecKey&) const = default;
};

// ".<id>.exec-<pid>-<n>.<in|out|err>" -> id, exec id and the pid that made it.
std::optional<std::tuple<std::string, std::string, int>> parseFifoName(std::string_view name) {
  const auto dot = name.rfind('.');
  if (!name.starts_with('.') || dot == std::string_view::npos || dot == 0) {
    return std::nullopt;
  }
  const std::string_view suffix = name.substr(dot + 1);
  if (suffix != "in" && suffix != "out" && suffix != "err") {
    return std::nullopt;
  }
  const std::string_view stem = name.substr(1, dot - 1);
  const auto exec = stem.rfind(".exec-");
  if (exec == std::string_view::npos || exec == 0) {
    return std::nullopt;
  }
  const std::string_view exec_id = stem.substr(exec + 1);
  const std::string_view digits = exec_id.substr(5);  // after "exec-"
  int pid = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || end == digits.data() || *end != '-') {
    return std::nullopt;
  }
  return std::tuple{std::string(stem.substr(0, exec)), std::string(exec_id), pid};
}

// SIGKILL, a short wait, and the entry deleted. True when nothing of it is left in
// containerd (also when it was not there).
bool endExec(containerd::Client& client, const ExecKey& key) {
  auto killed = client.killProcess(key.ns, key.id, key.exec_id, SIGKILL);
  if (!killed && killed.error().code == Code::kNotFound) {
    return true;
  }
  (void)client.waitProcess(key.ns, key.id, key.exec_id, std::chrono::seconds(2));
  auto deleted = client.deleteProcess(key.ns, key.id, key.exec_id);
  if (!deleted && deleted.error().code != Code::kNotFound) {
    log::container()->warn("stale exec ns={} id={} exec_id={} error=\"{}\"", key.ns, key.id,
                           key.exec_id, deleted.error().message);
    return false;
  }
  return true;
}

}  // namespace

std::size_t endStaleExecs(containerd::Client& client, const fs::path& log_root, int own_pid) {
  std::map<ExecKey, std::vector<fs::path>> stale;
  std::error_code ec;
  for (const auto& ns_dir : fs::directory_iterator(log_root, ec)) {
    const std::string ns = ns_dir.path().filename().string();
    if (!ns_dir.is_directory(ec) || !validateName("namespace", ns)) {
      continue;
    }
    std::error_code inner;
    for (const auto& entry : fs::directory_iterator(ns_dir.path(), inner)) {
      auto parsed = parseFifoName(entry.path().filename().string());
      if (!parsed || std::get<2>(*parsed) == own_pid || !entry.is_fifo(inner)) {
        continue;
      }
      stale[{ns, std::get<0>(*parsed), std::get<1>(*parsed)}].push_back(entry.path());
    }
  }
  std::size_t ended = 0;
  for (const auto& [key, fifos] : stale) {
    if (!endExec(client, key)) {
      continue;
    }
    for (const auto& fifo : fifos) {
      fs::remove(fifo, ec);
    }
    log::container()->info("ended stale exec ns={} id={} exec_id={}", key.ns, key.id,
                           key.exec_id);
    ++ended;
  }
  return ended;
}

}  // namespace contd::container
