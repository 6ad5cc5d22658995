// ContainerService's log calls (service.h): Logs, and Logs with follow, which ends when the
// container is removed or has ended for good, as `podman logs -f` does.

#include <chrono>

#include "modules/container/service.h"

namespace contd::container {

namespace {

using namespace std::chrono_literals;

bool endsAFollow(ModuleEvent::Kind kind) {
  using Kind = ModuleEvent::Kind;
  return kind == Kind::kDeleted || kind == Kind::kExited || kind == Kind::kStopped ||
         kind == Kind::kGaveUp;
}

}  // namespace

Result<std::vector<LogLine>> ContainerService::logs(std::string_view ns, std::string_view id,
                                                    const LogQuery& query) {
  // The log outlives nothing but the container record: an unknown container has no log.
  auto record = store_.get(ns, id);
  if (!record) {
    return record.error();
  }
  return readLog(logs_.path(ns, id), query);
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
    return record.error();
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
