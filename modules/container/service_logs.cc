// ContainerService's log calls (service.h): Logs, Logs of a deleted container (previous),
// the retiring of orphan logs, and Logs with follow, which ends when the
// container is removed or has ended for good, as `podman logs -f` does.

#include <chrono>
#include <set>

#include "modules/common/logging.h"
#include "modules/common/names.h"
#include "modules/common/time_format.h"
#include "modules/container/service.h"

namespace contd::container {

namespace {

using namespace std::chrono_literals;

std::string utcText(WallClock::time_point when) {
  return formatRfc3339(WallClock::to_time_t(when));
}

// The names of the logs in place in one namespace's folder: <name>.log files.
std::set<std::string> namesWithLogs(const std::filesystem::path& folder) {
  std::set<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() > 4 && file.ends_with(".log") && it->is_regular_file(ec)) {
      std::string name = file.substr(0, file.size() - 4);
      if (validateName("name", name)) {
        names.insert(std::move(name));
      }
    }
  }
  return names;
}

bool endsAFollow(ModuleEvent::Kind kind) {
  using Kind = ModuleEvent::Kind;
  return kind == Kind::kDeleted || kind == Kind::kExited || kind == Kind::kStopped ||
         kind == Kind::kGaveUp;
}

}  // namespace

std::filesystem::path ContainerService::logPath(std::string_view ns, std::string_view name) const {
  return logs_.path(ns, name);
}

Result<std::vector<LogLine>> ContainerService::logs(std::string_view ns, std::string_view id,
                                                    const LogQuery& query) {
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error().code == Code::kNotFound ? explainMissing(ns, id, record.error())
                                                  : record.error();
  }
  return readLog(logs_.path(ns, id), query);
}

Result<std::vector<LogLine>> ContainerService::previousLogs(std::string_view ns,
                                                            std::string_view id,
                                                            const LogQuery& query) {
  // Path components from the caller: checked here, as the store checks them for logs().
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  CONTD_RETURN_IF_ERROR(validateName("id", id));
  auto retired = retention_.newest(ns, id);
  if (!retired) {
    return notFound("no log of a deleted container named '" + std::string(id) + "' is kept in '" +
                    std::string(ns) + "' (log retention removes them after log_retention_ms, " +
                    "or sooner when they need more than log_retention_size)");
  }
  return readLog(retired->log, query);
}

Error ContainerService::explainMissing(std::string_view ns, std::string_view id,
                                       const Error& missing) const {
  const auto retired = retention_.newest(ns, id);
  if (!retired) {
    return missing;
  }
  return notFound(missing.message + "; a container of that name was deleted at " +
                  utcText(retired->deleted_at) + " and its log is kept until " +
                  utcText(retention_.keptUntil(retired->deleted_at)) +
                  " at most: read it with previous (contctl logs --previous)");
}

void ContainerService::retireOrphanLogs() {
  const auto log = log::container();
  std::error_code ec;
  for (std::filesystem::directory_iterator it(logs_.options().log_root, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string ns = it->path().filename().string();
    auto names = namesWithLogs(it->path());
    if (names.empty() || !validateName("namespace", ns)) {
      continue;
    }
    auto records = store_.list(ns);
    if (!records) {
      log->warn("retire orphan logs ns={} error=\"{}\"", ns, records.error().message);
      continue;
    }
    for (const auto& record : *records) {
      names.erase(record.id);
    }
    for (const auto& name : names) {
      // Under the name's lock: a Run of the name may be making its record right now.
      auto guard = store_.lock(ns, name);
      auto record = store_.get(ns, name);
      if (record || record.error().code != Code::kNotFound) {
        continue;
      }
      auto retired = retention_.retire(ns, name);
      log->info("retire orphan log ns={} id={} {}", ns, name,
                retired ? "ok" : "error=\"" + retired.error().message + "\"");
    }
  }
}

bool ContainerService::endedForGood(std::string_view ns, std::string_view id) {
  auto info = inspect(ns, id);
  if (!info) {
    return info.error().code == Code::kNotFound;
  }
  return info->desired != DesiredState::kRunning;
}

Status ContainerService::followLogs(std::string_view ns, std::string_view id,
                                    const LogQuery& query, const LogSink& sink,
                                    const std::function<bool()>& cancelled) {
  // Listening before the record is read: an end after it is not missed.
  const auto listener = events_.listen();
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error().code == Code::kNotFound ? explainMissing(ns, id, record.error())
                                                  : record.error();
  }
  // Once the container is gone or ended for good, one more wait (the follower drains what
  // the log driver wrote last), then the follow ends. A listener that fell behind asks
  // about the container instead of trusting the events it kept.
  int ending = 0;
  std::uint64_t dropped = 0;
  const auto done = [&] {
    if (ending > 0) {
      return ++ending > 2 || cancelled();
    }
    bool check = listener->dropped() != dropped;
    dropped = listener->dropped();
    while (auto event = listener->next(0ms)) {
      check = check || (event->ns == ns && event->id == id && endsAFollow(event->kind));
    }
    if (check && endedForGood(ns, id)) {
      ending = 1;
    }
    return cancelled();
  };
  // The record exists, so a missing file only means nothing was written yet: waited for.
  return followLog(logs_.path(ns, id), query, sink, done);
}

}  // namespace contd::container
