#include "modules/container/log_follower.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "modules/common/logging.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 64 * 1024;
// Bytes read per wait at most, so a follower far behind hands lines on in bounded batches.
constexpr std::uint64_t kDrainBudget = 1024 * 1024;

constexpr std::uint32_t kFolderEvents =
    IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

LogFollower::LogFollower(fs::path log_file)
    : path_(std::move(log_file)), name_(path_.filename().string()) {
  inotify_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_.valid()) {
    log::container()->warn("follow op=logs log={} inotify=unavailable error=\"{}\" check_ms={}",
                           path_.string(), std::strerror(errno), kFollowCheckEvery.count());
  }
  // The folder first: a file created after the open below fails is then not missed.
  watchFolder();
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (auto id = fd.valid() ? fileIdOf(fd.get()) : std::nullopt) {
    held_ = std::move(fd);
    held_id_ = *id;
    // Watched before its size is taken: a write after that point raises an event.
    watchHeld();
    struct stat st {};
    offset_ = ::fstat(held_.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  }
}

void LogFollower::watchFolder() {
  if (inotify_.valid() && folder_watch_ < 0) {
    folder_watch_ = ::inotify_add_watch(inotify_.get(), path_.parent_path().c_str(), kFolderEvents);
  }
}

void LogFollower::watchHeld() {
  if (!inotify_.valid()) {
    return;
  }
  if (file_watch_ >= 0) {
    ::inotify_rm_watch(inotify_.get(), file_watch_);
  }
  // Through the fd, so the watch is on the file held even when the name moved on already.
  const std::string by_fd = "/proc/self/fd/" + std::to_string(held_.get());
  file_watch_ = ::inotify_add_watch(inotify_.get(), by_fd.c_str(), IN_MODIFY);
  if (file_watch_ < 0) {
    file_watch_ = ::inotify_add_watch(inotify_.get(), path_.c_str(), IN_MODIFY);  // no /proc
  }
}

void LogFollower::hold(UniqueFd fd, const FileId& id, std::uint64_t offset) {
  held_ = std::move(fd);
  held_id_ = id;
  offset_ = offset;
  watchHeld();
}

Result<std::vector<LogLine>> LogFollower::backlog(const LogQuery& query) {
  auto files = holdLogFiles(path_);
  std::vector<LogSpan> spans;
  if (held_.valid()) {
    // The files older than the held one, and the held one up to where following starts.
    // (Were the held file not listed, it would have rotated out of the listing meanwhile,
    // with every older file gone before it.)
    const auto at = findHeld(files, held_id_);
    for (std::size_t i = 0; at && i < *at; ++i) {
      spans.push_back(LogSpan{files[i].fd.get(), files[i].size, files[i].path});
    }
    spans.push_back(LogSpan{held_.get(), offset_, path_});
  } else {
    // No current file yet: the rotated ones are all there is; the current one, should it
    // appear meanwhile, is followed from its first byte.
    for (const auto& file : files) {
      if (file.number != 0) {
        spans.push_back(LogSpan{file.fd.get(), file.size, file.path});
      }
    }
  }
  return readLogSpans(spans, query, /*finish=*/false, assembler_);
}

Status LogFollower::wait(std::chrono::milliseconds timeout, std::vector<LogLine>& out) {
  if (!behind_) {
    if (inotify_.valid()) {
      const auto deadline = Clock::now() + timeout;
      for (;;) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd ready{inotify_.get(), POLLIN, 0};
        const int n = left > 0 ? ::poll(&ready, 1, static_cast<int>(left)) : 0;
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n <= 0 || readEvents()) {
          break;
        }
      }
    } else {
      std::this_thread::sleep_for(timeout);
    }
  }
  return check(out);
}

bool LogFollower::readEvents() {
  alignas(inotify_event) char buffer[16 * 1024];
  bool ours = false;
  for (;;) {
    const ssize_t n = ::read(inotify_.get(), buffer, sizeof(buffer));
    if (n <= 0) {
      return ours;
    }
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) {
        ours = true;
      } else if (event->wd == file_watch_) {
        ours = ours || (event->mask & IN_MODIFY) != 0;
      } else if (event->wd == folder_watch_ && (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF))) {
        // The folder went away; the writer makes a new one, watched at the next check.
        ::inotify_rm_watch(inotify_.get(), folder_watch_);
        folder_watch_ = -1;
        ours = true;
      } else if (event->wd == folder_watch_ && event->len > 0) {
        ours = ours || name_ == event->name;  // other containers' files share the folder
      }
    }
  }
}

Status LogFollower::check(std::vector<LogLine>& out) {
  watchFolder();
  if (!held_.valid()) {
    // The log appears: the container's first output. Followed from its first byte.
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    auto id = fd.valid() ? fileIdOf(fd.get()) : std::nullopt;
    if (!id) {
      return okStatus();
    }
    hold(std::move(fd), *id, 0);
  }
  CONTD_RETURN_IF_ERROR(drain(out));
  if (behind_) {
    return okStatus();
  }
  const auto named = fileIdOf(path_);
  if (!named || *named == held_id_) {
    return okStatus();  // no rotation, or the new file is not there yet
  }
  // Rotated (or removed): the writer wrote to the held file until the rename, which may
  // have come after the drain above; the held file is final now.
  CONTD_RETURN_IF_ERROR(drain(out));
  return behind_ ? okStatus() : moveOn(out);
}

Status LogFollower::moveOn(std::vector<LogLine>& out) {
  auto files = holdLogFiles(path_);
  if (files.empty()) {
    return okStatus();
  }
  // The file right after the held one; after it, at the next checks, the ones after that.
  const auto at = findHeld(files, held_id_);
  std::size_t next = at ? *at + 1 : files.size() - 1;
  if (next >= files.size()) {
    return okStatus();
  }
  hold(std::move(files[next].fd), files[next].id, 0);
  return drain(out);
}

Status LogFollower::drain(std::vector<LogLine>& out) {
  struct stat st {};
  if (::fstat(held_.get(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) < offset_) {
    // Cut back: the writer removes a half-written batch after a failed write (docs/logs.md);
    // what comes next is written at the new end.
    assembler_.dropUnfinishedRecord();
    offset_ = static_cast<std::uint64_t>(st.st_size);
  }
  std::string buffer(kReadChunk, '\0');
  std::uint64_t budget = kDrainBudget;
  behind_ = false;
  while (budget > 0) {
    const ssize_t n =
        ::pread(held_.get(), buffer.data(), buffer.size(), static_cast<off_t>(offset_));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return sysError("read '" + path_.string() + "'", errno);
    }
    if (n == 0) {
      return okStatus();
    }
    offset_ += static_cast<std::uint64_t>(n);
    budget -= std::min<std::uint64_t>(budget, static_cast<std::uint64_t>(n));
    assembler_.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), out);
  }
  behind_ = true;
  return okStatus();
}

Status followLog(const fs::path& log_file, const LogQuery& query, const LogSink& sink,
                 const std::function<bool()>& cancelled, std::chrono::milliseconds check_every) {
  // The follower holds the current file before the backlog is read, so nothing written in
  // between is lost; the backlog stops where the follower starts, so nothing comes twice.
  LogFollower follower(log_file);
  auto backlog = follower.backlog(query);
  if (!backlog) {
    return backlog.error();
  }
  for (const auto& line : *backlog) {
    if (!sink(line)) {
      return okStatus();
    }
  }
  std::vector<LogLine> fresh;
  while (!cancelled()) {
    fresh.clear();
    CONTD_RETURN_IF_ERROR(follower.wait(check_every, fresh));
    for (const auto& line : fresh) {
      if (!sink(line)) {
        return okStatus();
      }
    }
  }
  return okStatus();
}

}  // namespace contd::container
