#include "modules/container/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <deque>
#include <fstream>

namespace contd::container {
namespace {

namespace fs = std::filesystem;


// Rotated files, newest first ends when a number is missing: .1, .2, ...
std::vector<fs::path> filesOldestFirst(const fs::path& log_file) {
  std::vector<fs::path> rotated;
  for (unsigned k = 1;; ++k) {
    fs::path candidate = log_file;
    candidate += "." + std::to_string(k);
    std::error_code ec;
    if (!fs::exists(candidate, ec)) {
      break;
    }
    rotated.push_back(candidate);
  }
  std::vector<fs::path> files(rotated.rbegin(), rotated.rend());
  std::error_code ec;
  if (fs::exists(log_file, ec)) {
    files.push_back(log_file);
  }
  return files;
}

}  // namespace


std::optional<CriRecord> parseCriRecord(std::string_view record) {
  const auto first = record.find(' ');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  auto time = parseRfc3339Nano(record.substr(0, first));
  if (!time) {
    return std::nullopt;
  }
  const auto second = record.find(' ', first + 1);
  if (second == std::string_view::npos) {
    return std::nullopt;
  }
  const auto stream = record.substr(first + 1, second - first - 1);
  if (stream != "stdout" && stream != "stderr") {
    return std::nullopt;
  }
  const auto tag = record.substr(second + 1, 1);
  if (tag != "F" && tag != "P") {
    return std::nullopt;
  }
  // "<tag> <text>"; an empty line may come as "<tag>" alone.
  std::string_view text;
  if (record.size() > second + 2) {
    if (record[second + 2] != ' ') {
      return std::nullopt;
    }
    text = record.substr(second + 3);
  }
  return CriRecord{*time, stream, tag == "P", text};
}

void LogLineAssembler::record(std::string_view line, std::vector<LogLine>& out) {
  auto cri = parseCriRecord(line);
  if (!cri) {
    out.push_back(LogLine{0, "stdout", std::string(line)});
    return;
  }
  auto& partial = cri->stream == "stdout" ? partial_stdout_ : partial_stderr_;
  if (!partial) {
    partial = LogLine{cri->time, std::string(cri->stream), ""};
  }
  partial->text.append(cri->text);
  if (!cri->partial) {
    out.push_back(std::move(*partial));
    partial.reset();
  }
}

void LogLineAssembler::feed(std::string_view bytes, std::vector<LogLine>& out) {
  std::size_t start = 0;
  while (start < bytes.size()) {
    const auto end = bytes.find('\n', start);
    if (end == std::string_view::npos) {
      pending_bytes_.append(bytes.substr(start));
      return;
    }
    if (pending_bytes_.empty()) {
      record(bytes.substr(start, end - start), out);
    } else {
      pending_bytes_.append(bytes.substr(start, end - start));
      record(pending_bytes_, out);
      pending_bytes_.clear();
    }
    start = end + 1;
  }
}

void LogLineAssembler::finish(std::vector<LogLine>& out) {
  if (!pending_bytes_.empty()) {
    record(pending_bytes_, out);
    pending_bytes_.clear();
  }
  for (auto* partial : {&partial_stdout_, &partial_stderr_}) {
    if (*partial) {
      out.push_back(std::move(**partial));
      partial->reset();
    }
  }
}

Result<std::vector<LogLine>> readLog(const fs::path& log_file, const LogQuery& query) {
  const auto files = filesOldestFirst(log_file);
  if (files.empty()) {
    return notFound("log '" + log_file.string() + "': no such file");
  }
  LogLineAssembler assembler;
  std::vector<LogLine> batch;
  // With a tail, keep only what can still be part of it.
  std::deque<LogLine> kept;
  auto keep = [&](std::vector<LogLine>& lines) {
    for (auto& line : lines) {
      if (query.since != 0 && line.time != 0 && line.time < query.since) {
        continue;
      }
      kept.push_back(std::move(line));
      if (query.tail != 0 && kept.size() > query.tail) {
        kept.pop_front();
      }
    }
    lines.clear();
  };
  std::string buffer(64 * 1024, '\0');
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      continue;  // rotated away between listing and opening
    }
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      assembler.feed(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())), batch);
      keep(batch);
    }
  }
  assembler.finish(batch);
  keep(batch);
  return std::vector<LogLine>(std::make_move_iterator(kept.begin()),
                              std::make_move_iterator(kept.end()));
}

LogFollower::LogFollower(fs::path log_file) : path_(std::move(log_file)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ >= 0) {
    ::lseek(fd_, 0, SEEK_END);
  }
}

LogFollower::~LogFollower() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void LogFollower::drain(std::vector<LogLine>& out) {
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof(buffer));
    if (n <= 0) {
      return;
    }
    assembler_.feed(std::string_view(buffer, static_cast<std::size_t>(n)), out);
  }
}

void LogFollower::poll(std::vector<LogLine>& out) {
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      return;
    }
  }
  drain(out);
  // Rotated: the path now names another file. What the old one got after our last read
  // was drained above; continue with the new file from its start.
  struct stat held {}, named {};
  if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 &&
      (held.st_ino != named.st_ino || held.st_dev != named.st_dev)) {
    ::close(fd_);
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ >= 0) {
      drain(out);
    }
  }
}

}  // namespace contd::container
