#include "shim/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace contd::shim {
namespace {

constexpr mode_t kFileMode = 0640;
constexpr mode_t kDirMode = 0750;

std::string sysMessage(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// mkdir -p: each missing component of the absolute `dir`. errno of the first failure.
int makeDirs(const std::string& dir) {
  for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string part = dir.substr(0, slash);
    if (::mkdir(part.c_str(), kDirMode) != 0 && errno != EEXIST) {
      return errno;
    }
    if (slash == std::string::npos) {
      return 0;
    }
  }
}

std::uint64_t countRecords(std::string_view records) {
  std::uint64_t n = 0;
  const char* p = records.data();
  const char* end = p + records.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (nl == nullptr) {
      break;
    }
    ++n;
    p = static_cast<const char*>(nl) + 1;
  }
  return n;
}

// Length of the longest prefix of `records` no longer than `room` that ends a record, or 0.
std::size_t wholeRecordsWithin(std::string_view records, std::size_t room) {
  if (room >= records.size()) {
    return records.size();
  }
  const void* nl = ::memrchr(records.data(), '\n', room);
  return nl == nullptr ? 0 : static_cast<const char*>(nl) - records.data() + 1;
}

}  // namespace

LogFile::LogFile(const Options& options, Reporter& reporter)
    : options_(options), path_(options.logPath()), reporter_(reporter) {}

LogFile::~LogFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::string LogFile::rotatedPath(unsigned k) const { return path_ + "." + std::to_string(k); }

bool LogFile::open(std::int64_t now_ms) {
  last_check_ms_ = now_ms;
  return openFile(now_ms);
}

bool LogFile::openFile(std::int64_t now_ms) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  need_newline_ = false;
  // Readable too: a writer killed mid-write(2) (docs/logs.md, supervision) may have left half
  // a record at the end; its successor ends it with a newline before appending.
  const int flags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  int fd = ::open(path_.c_str(), flags, kFileMode);
  if (fd < 0 && errno == ENOENT) {
    // The namespace folder (or log_root) is missing: first start, or removed under us.
    if (const int err = makeDirs(options_.nsDir()); err != 0) {
      startEpisode("mkdir '" + options_.nsDir() + "'", err, now_ms);
      return false;
    }
    fd = ::open(path_.c_str(), flags, kFileMode);
  }
  if (fd < 0) {
    startEpisode("open '" + path_ + "'", errno, now_ms);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    startEpisode("fstat '" + path_ + "'", err, now_ms);
    return false;
  }
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  size_ = static_cast<std::uint64_t>(st.st_size);
  char last = '\n';
  if (size_ > 0 && ::pread(fd_, &last, 1, st.st_size - 1) == 1 && last != '\n') {
    need_newline_ = true;
  }
  return true;
}

void LogFile::checkIdentity(std::int64_t now_ms) {
  last_check_ms_ = now_ms;
  if (fd_ < 0) {
    return;
  }
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    return;
  }
  // Gone (unlinked, folder removed) or replaced (renamed away by someone else's rotation):
  // writing on would put records where nobody looks for them.
  if (!failing_) {
    reporter_.report(5, "'" + path_ + "' was removed or replaced; opening a new one");
  }
  openFile(now_ms);
}

void LogFile::rotate(std::int64_t now_ms) {
  // Leftovers of a larger max_files go first, then the oldest kept file.
  for (unsigned k = options_.max_files + 1; ::unlink(rotatedPath(k).c_str()) == 0; ++k) {
  }
  int err = 0;
  if (options_.max_files == 0) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      err = errno;
    }
  } else {
    ::unlink(rotatedPath(options_.max_files).c_str());
    for (unsigned k = options_.max_files - 1; k >= 1; --k) {
      ::rename(rotatedPath(k).c_str(), rotatedPath(k + 1).c_str());  // ENOENT: not there yet
    }
    if (::rename(path_.c_str(), rotatedPath(1).c_str()) != 0 && errno != ENOENT) {
      err = errno;
    }
  }
  if (err != 0) {
    // Keep appending to the current file (over max_size) rather than drop output; try to
    // rotate again after the retry interval.
    rotate_blocked_until_ms_ = now_ms + kRetryIntervalMs;
    reporter_.report(4, sysMessage("rotate '" + path_ + "'", err) +
                            "; appending beyond max_size for now");
    return;
  }
  openFile(now_ms);
}

bool LogFile::writeChunk(std::string_view chunk, std::size_t& kept, int& errno_out) {
  if (need_newline_) {
    if (::write(fd_, "\n", 1) != 1) {
      kept = 0;
      errno_out = errno;
      return false;
    }
    ++size_;
    need_newline_ = false;
  }
  std::size_t done = 0;
  while (done < chunk.size()) {
    const ssize_t n = ::write(fd_, chunk.data() + done, chunk.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    errno_out = n == 0 ? EIO : errno;
    kept = wholeRecordsWithin(chunk, done);
    if (kept != done && ::ftruncate(fd_, static_cast<off_t>(size_ + kept)) != 0) {
      need_newline_ = true;  // half a record stays; end it before the next one
    }
    size_ += kept;
    return false;
  }
  size_ += done;
  kept = done;
  return true;
}

void LogFile::write(std::string_view records, std::int64_t now_ms) {
  if (records.empty()) {
    return;
  }
  if (failing_) {
    if (now_ms < retry_at_ms_) {
      drop(records);
      return;
    }
    retry_at_ms_ = now_ms + kRetryIntervalMs;
  }
  if (fd_ < 0) {
    if (!openFile(now_ms)) {
      drop(records);
      return;
    }
    last_check_ms_ = now_ms;
  } else if (now_ms - last_check_ms_ >= kCheckIntervalMs) {
    checkIdentity(now_ms);
    if (fd_ < 0) {
      drop(records);
      return;
    }
  }
  while (!records.empty()) {
    std::size_t len = records.size();
    if (options_.max_size > 0 && size_ + len > options_.max_size &&
        now_ms >= rotate_blocked_until_ms_) {
      const std::uint64_t room = size_ < options_.max_size ? options_.max_size - size_ : 0;
      len = wholeRecordsWithin(records, static_cast<std::size_t>(room));
      if (len == 0) {
        if (size_ > 0) {
          rotate(now_ms);
          if (fd_ < 0) {
            drop(records);
            return;
          }
          if (now_ms < rotate_blocked_until_ms_) {
            len = records.size();  // could not rotate: append everything for now
          } else {
            continue;  // the fresh file is empty: now the records fit (or one goes alone)
          }
        } else {
          len = wholeRecordsWithin(records, records.find('\n') + 1);  // oversized record
          if (len == 0) {
            len = records.size();
          }
        }
      }
    }
    std::size_t kept = 0;
    int err = 0;
    if (!writeChunk(records.substr(0, len), kept, err)) {
      records.remove_prefix(kept);
      drop(records);
      startEpisode("write '" + path_ + "'", err, now_ms);
      return;
    }
    records.remove_prefix(len);
  }
  if (failing_) {
    endEpisode(now_ms);
  }
}

void LogFile::drop(std::string_view records) {
  const std::uint64_t n = countRecords(records);
  episode_dropped_bytes_ += records.size();
  episode_dropped_records_ += n;
  total_dropped_bytes_ += records.size();
  total_dropped_records_ += n;
}

void LogFile::startEpisode(const std::string& what, int err, std::int64_t now_ms) {
  retry_at_ms_ = now_ms + kRetryIntervalMs;
  if (failing_) {
    return;  // one report per episode, however the trouble changes shape
  }
  failing_ = true;
  episode_start_ms_ = now_ms;
  episode_dropped_bytes_ = 0;
  episode_dropped_records_ = 0;
  reporter_.report(4, sysMessage(what, err) +
                          "; dropping the container's output until it can be written again");
}

void LogFile::endEpisode(std::int64_t now_ms) {
  failing_ = false;
  const std::int64_t ms = now_ms - episode_start_ms_;
  reporter_.report(5, "writing '" + path_ + "' again after " + std::to_string(ms / 1000) + "." +
                          std::to_string(ms % 1000 / 100) + " s; dropped " +
                          std::to_string(episode_dropped_bytes_) + " bytes (" +
                          std::to_string(episode_dropped_records_) + " records)");
}

void LogFile::close() {
  if (failing_) {
    reporter_.report(4, "exiting while '" + path_ + "' cannot be written; dropped " +
                            std::to_string(episode_dropped_bytes_) + " bytes (" +
                            std::to_string(episode_dropped_records_) + " records)");
    failing_ = false;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace contd::shim
