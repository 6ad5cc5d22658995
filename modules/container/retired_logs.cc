#include "modules/container/retired_logs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>

#include "modules/common/logging.h"
#include "modules/common/names.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

constexpr char kDeletedFolder[] = "deleted";
// "YYYYMMDDTHHMMSS.uuuuuuZ"
constexpr std::size_t kStampLength = 23;

fs::path deletedFolder(const fs::path& log_root, std::string_view ns) {
  return log_root / std::string(ns) / kDeletedFolder;
}

std::string stampOf(WallClock::time_point when) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[64];  // room for any int the compiler imagines
  std::snprintf(text, sizeof text, "%04d%02d%02dT%02d%02d%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(micros % 1'000'000));
  return text;
}

bool allDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<WallClock::time_point> parseStamp(std::string_view stamp) {
  if (stamp.size() != kStampLength || stamp[8] != 'T' || stamp[15] != '.' || stamp[22] != 'Z' ||
      !allDigits(stamp.substr(0, 8)) || !allDigits(stamp.substr(9, 6)) ||
      !allDigits(stamp.substr(16, 6))) {
    return std::nullopt;
  }
  const auto number = [&](std::size_t at, std::size_t length) {
    return std::stoi(std::string(stamp.substr(at, length)));
  };
  std::tm utc{};
  utc.tm_year = number(0, 4) - 1900;
  utc.tm_mon = number(4, 2) - 1;
  utc.tm_mday = number(6, 2);
  utc.tm_hour = number(9, 2);
  utc.tm_min = number(11, 2);
  utc.tm_sec = number(13, 2);
  const std::time_t seconds = ::timegm(&utc);
  if (seconds == static_cast<std::time_t>(-1)) {
    return std::nullopt;
  }
  return WallClock::time_point(std::chrono::seconds(seconds)) +
         std::chrono::microseconds(number(16, 6));
}

// What `folder` takes on disk: its own blocks and its regular files' (not recursive: retired
// folders hold files only), as du counts them. A one-line log still takes a block or two,
// so the size limit also bounds how many logs are kept.
std::uint64_t folderBytes(const fs::path& folder) {
  struct stat st {};
  std::uint64_t bytes = ::lstat(folder.c_str(), &st) == 0
                            ? static_cast<std::uint64_t>(st.st_blocks) * 512
                            : 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
  }
  return bytes;
}

// The retired folders directly in <ns>/deleted, unsorted; `name` empty: of every name.
void collect(const fs::path& deleted, std::string_view name, bool sizes,
             std::vector<RetiredLog>& out) {
  std::error_code ec;
  for (fs::directory_iterator it(deleted, ec), end; !ec && it != end; it.increment(ec)) {
    auto parsed = parseRetiredFolderName(it->path().filename().string());
    if (!parsed || (!name.empty() && parsed->first != name) ||
        !it->is_directory(ec) || it->is_symlink(ec)) {
      continue;
    }
    out.push_back({.folder = it->path(),
                   .log = it->path() / (parsed->first + ".log"),
                   .deleted_at = parsed->second,
                   .bytes = sizes ? folderBytes(it->path()) : 0});
  }
}

}  // namespace

bool removeRetired(const RetiredLog& retired) {
  std::error_code ec;
  fs::remove_all(retired.folder, ec);
  if (ec) {
    log::container()->warn("log retention remove={} error=\"{}\"", retired.folder.string(),
                           ec.message());
    return false;
  }
  return true;
}

std::string retiredFolderName(std::string_view name, WallClock::time_point when) {
  return std::string(name) + "@" + stampOf(when);
}

std::optional<std::pair<std::string, WallClock::time_point>> parseRetiredFolderName(
    std::string_view folder_name) {
  const auto at = folder_name.find('@');
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view name = folder_name.substr(0, at);
  auto when = parseStamp(folder_name.substr(at + 1));
  if (!when || !validateName("name", name)) {
    return std::nullopt;
  }
  return std::make_pair(std::string(name), *when);
}

Result<std::optional<RetiredLog>> retireFiles(const fs::path& log_root, std::string_view ns,
                                              std::string_view name,
                                              const std::vector<fs::path>& files,
                                              WallClock::time_point when) {
  if (files.empty()) {
    return std::optional<RetiredLog>();
  }
  const fs::path deleted = deletedFolder(log_root, ns);
  if (::mkdir(deleted.c_str(), 0750) != 0 && errno != EEXIST) {
    return sysError("create '" + deleted.string() + "'", errno);
  }
  fs::path folder;
  WallClock::time_point stamp = when;
  for (int attempt = 0;; ++attempt) {
    stamp = when + std::chrono::microseconds(attempt);
    folder = deleted / retiredFolderName(name, stamp);
    if (::mkdir(folder.c_str(), 0750) == 0) {
      break;
    }
    if (errno != EEXIST || attempt == 1000) {
      return sysError("create '" + folder.string() + "'", errno);
    }
  }
  for (const auto& file : files) {
    const fs::path target = folder / file.filename();
    if (::rename(file.c_str(), target.c_str()) != 0 && errno != ENOENT) {
      return sysError("move '" + file.string() + "' to '" + target.string() + "'", errno);
    }
  }
  // The folder's time is what its name says, to the microsecond, as listRetired reads it.
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
      stamp.time_since_epoch());
  return std::optional<RetiredLog>(RetiredLog{.folder = folder,
                                              .log = folder / (std::string(name) + ".log"),
                                              .deleted_at = WallClock::time_point(micros),
                                              .bytes = folderBytes(folder)});
}

std::optional<RetiredLog> newestRetired(const fs::path& log_root, std::string_view ns,
                                        std::string_view name) {
  if (name.empty()) {
    return std::nullopt;
  }
  std::vector<RetiredLog> found;
  collect(deletedFolder(log_root, ns), name, /*sizes=*/false, found);
  if (found.empty()) {
    return std::nullopt;
  }
  return *std::max_element(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.deleted_at < b.deleted_at;
  });
}

std::vector<RetiredLog> listRetired(const fs::path& log_root) {
  std::vector<RetiredLog> all;
  std::error_code ec;
  for (fs::directory_iterator it(log_root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      collect(it->path() / kDeletedFolder, "", /*sizes=*/true, all);
    }
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.deleted_at < b.deleted_at; });
  return all;
}

std::vector<RetiredLog> takeExpired(std::deque<RetiredLog>& kept, std::uint64_t* kept_bytes,
                                    WallClock::time_point now, std::chrono::milliseconds max_age,
                                    std::uint64_t max_bytes) {
  std::vector<RetiredLog> expired;
  // Oldest first: by age while the front is too old, then by size until the rest fits.
  while (!kept.empty() &&
         (now - kept.front().deleted_at >= max_age || *kept_bytes > max_bytes)) {
    *kept_bytes -= std::min(*kept_bytes, kept.front().bytes);
    expired.push_back(std::move(kept.front()));
    kept.pop_front();
  }
  return expired;
}

}  // namespace contd::container
