// contctl events and contctl logs, with reconnection for the following ones.

#include "modules/contctl/follow.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <google/protobuf/util/time_util.h>
#include <nlohmann/json.hpp>

#include "modules/contctl/error_text.h"
#include "modules/contctl/foreground.h"
#include "modules/contctl/output.h"
#include "modules/contctl/reconnect.h"

namespace contd::contctl {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kExitServer = 1;

std::int64_t lineTime(const v1::LogLine& line) {
  return line.has_time() ? TimeUtil::TimestampToNanoseconds(line.time()) : 0;
}

// One log line as a JSON object: the text as a string (invalid UTF-8 replaced), not base64.
std::string logLineJson(const v1::LogLine& line) {
  nlohmann::json object = {{"stream", line.stream()}, {"text", line.text()}};
  object["time"] = line.has_time() ? nlohmann::json(TimeUtil::ToString(line.time()))
                                   : nlohmann::json(nullptr);
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void printLine(const Invocation& inv, const v1::LogLine& line) {
  if (inv.json) {
    std::fputs(logLineJson(line).c_str(), stdout);
    if (inv.follow) {
      std::fflush(stdout);
    }
    return;
  }
  if (inv.timestamps) {
    const std::string time = line.has_time() ? TimeUtil::ToString(line.time()) : "-";
    std::fprintf(line.stream() == "stderr" ? stderr : stdout, "%s ", time.c_str());
  }
  // Kept apart: the container's stderr goes to contctl's stderr.
  printLogLine(line, inv.follow);
}

// The first Logs request: --tail 0 asks for nothing old (with -f: the lines from now on).
v1::LogsRequest firstRequest(const Invocation& inv) {
  v1::LogsRequest request;
  request.set_namespace_(inv.ns);
  request.set_id(inv.name);
  request.set_tail(inv.tail);
  request.set_follow(inv.follow);
  request.set_previous(inv.previous);
  const bool no_backlog = inv.tail_given && inv.tail == 0;
  std::int64_t since = inv.since;
  if (no_backlog && inv.follow) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    since = std::max<std::int64_t>(
        since, std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  } else if (no_backlog) {
    request.set_tail(1);  // the call still says whether the container exists
  }
  if (since != 0) {
    *request.mutable_since() = TimeUtil::NanosecondsToTimestamp(since);
  }
  return request;
}

}  // namespace

v1::LogsRequest LogResume::next(const v1::LogsRequest& first) const {
  if (!any_) {
    return first;
  }
  v1::LogsRequest request = first;
  request.set_tail(0);
  if (last_ns_ != 0) {
    *request.mutable_since() = TimeUtil::NanosecondsToTimestamp(last_ns_);
  }
  return request;
}

bool LogResume::fresh(const v1::LogLine& line) {
  const std::int64_t time = lineTime(line);
  if (to_skip_ > 0 && time == last_ns_) {
    --to_skip_;
    return false;
  }
  to_skip_ = 0;
  any_ = true;
  if (time != 0 && time == last_ns_) {
    ++at_last_;
  } else if (time != 0) {
    last_ns_ = time;
    at_last_ = 1;
  }
  return true;
}

// contctl events: one line (or JSON line) per event, flushed as it comes, until stopped;
// across restarts of contd.
int eventsCommand(Client& client, const Invocation& inv) {
  const auto print = [&](const v1::Event& event) {
    const std::string line = inv.json ? toJson(event, true) : formatEvent(event);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  };
  auto followed = followReconnecting(
      [&](bool) {
        Client::StreamEnd end = client.eventsOnce(inv.ns, print);
        if (end.established && end.status.ok()) {
          // The stream of events ends only when contd stops: wait for the next one.
          end.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "contd stopped");
        }
        return end;
      },
      [&] { client.reconnect(); });
  if (!followed) {
    printError(inv, followed.error().message);
    return kExitServer;
  }
  return 0;
}

// contctl logs: the lines on stdout or stderr as the container wrote them, or JSON lines.
// --tail 0 prints no old line (with -f: only new ones); --until drops lines written after it.
int logsCommand(Client& client, const Invocation& inv) {
  const v1::LogsRequest first = firstRequest(inv);
  const bool no_backlog = inv.tail_given && inv.tail == 0;
  LogResume resume;
  const auto on_line = [&](const v1::LogLine& line) {
    if (!resume.fresh(line) || (no_backlog && !inv.follow) ||
        (inv.until != 0 && line.has_time() && lineTime(line) > inv.until)) {
      return;
    }
    printLine(inv, line);
  };
  Status done = okStatus();
  if (!inv.follow) {
    done = client.logs(first, on_line);
  } else {
    done = followReconnecting(
        [&](bool resumed) {
          if (resumed) {
            resume.resume();
          }
          Client::StreamEnd end = client.logsOnce(resume.next(first), on_line);
          if (resumed && end.status.error_code() == grpc::StatusCode::NOT_FOUND) {
            end.status = grpc::Status::OK;  // removed while contd was away: the follow ends
          }
          return end;
        },
        [&] { client.reconnect(); });
  }
  if (!done) {
    printError(inv, done.error().message);
    return kExitServer;
  }
  return 0;
}

}  // namespace contd::contctl
