#include "zbus-bridge/log_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

namespace contd::zbus {
namespace {

struct CriLine {
  bool stderr_stream = false;
  bool partial = false;
  std::string_view text;
};

bool isDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// "2026-11-22T09:46:47.123456789Z" or with a "+01:00" offset; no spaces.
bool looksLikeRfc3339(std::string_view ts) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (ts.size() < kShape.size() + 1) {
    return false;
  }
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !isDigit(ts[i]) : ts[i] != kShape[i]) {
      return false;
    }
  }
  for (char c : ts.substr(kShape.size())) {
    if (!isDigit(c) && c != '.' && c != ':' && c != '+' && c != '-' && c != 'Z') {
      return false;
    }
  }
  return true;
}

std::optional<CriLine> parseCri(std::string_view line) {
  const auto space = line.find(' ');
  if (space == std::string_view::npos || !looksLikeRfc3339(line.substr(0, space))) {
    return std::nullopt;
  }
  std::string_view rest = line.substr(space + 1);
  CriLine cri;
  if (rest.starts_with("stdout ")) {
    cri.stderr_stream = false;
  } else if (rest.starts_with("stderr ")) {
    cri.stderr_stream = true;
  } else {
    return std::nullopt;
  }
  rest.remove_prefix(7);
  if (rest.empty() || (rest[0] != 'F' && rest[0] != 'P')) {
    return std::nullopt;
  }
  cri.partial = rest[0] == 'P';
  rest.remove_prefix(1);
  if (!rest.empty()) {
    if (rest[0] != ' ') {
      return std::nullopt;
    }
    rest.remove_prefix(1);
  }
  cri.text = rest;
  return cri;
}

}  // namespace

std::string lastLogLines(std::string_view text, std::size_t lines, bool cut_start) {
  std::vector<std::string> logical;
  std::string pending[2];  // stdout, stderr partials
  bool first = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find('\n', pos);
    const bool complete = end != std::string_view::npos;
    const std::string_view line = text.substr(pos, complete ? end - pos : std::string_view::npos);
    pos = complete ? end + 1 : text.size();
    if (first && cut_start) {
      first = false;
      continue;
    }
    first = false;
    const std::string newline = complete ? "\n" : "";
    if (auto cri = parseCri(line)) {
      std::string& stream = pending[cri->stderr_stream ? 1 : 0];
      stream += cri->text;
      if (!cri->partial) {
        logical.push_back(std::move(stream) + newline);
        stream.clear();
      }
      continue;
    }
    logical.push_back(std::string(line) + newline);
  }
  for (auto& stream : pending) {
    if (!stream.empty()) {
      logical.push_back(std::move(stream));  // a partial line nothing completed (yet)
    }
  }
  std::string result;
  const std::size_t from = logical.size() > lines ? logical.size() - lines : 0;
  for (std::size_t i = from; i < logical.size(); ++i) {
    result += logical[i];
  }
  return result;
}

Result<std::string> tailLogFile(const std::filesystem::path& path, std::size_t lines,
                                std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return sysError("open '" + path.string() + "'", errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return sysError("stat '" + path.string() + "'", err);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  // Grow a window from the end of the file until it holds enough lines (or all the file).
  std::size_t window = std::min<std::size_t>(size, 64U << 10);
  std::string text;
  while (true) {
    text.resize(window);
    std::size_t done = 0;
    while (done < window) {
      const ssize_t n = ::pread(fd, text.data() + done, window - done,
                                static_cast<off_t>(size - window + done));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return sysError("read '" + path.string() + "'", err);
      }
      if (n == 0) {
        break;  // truncated meanwhile (rotation)
      }
      done += static_cast<std::size_t>(n);
    }
    text.resize(done);
    const bool whole = window >= size;
    std::size_t newlines = 0;
    for (char c : text) {
      newlines += c == '\n' ? 1 : 0;
    }
    if (whole || window >= max_bytes || newlines > lines * 2 + 1) {
      std::string tail = lastLogLines(text, lines, !whole);
      // Enough when the window holds more than `lines` logical lines or cannot grow.
      if (whole || window >= max_bytes ||
          lastLogLines(text, lines + 1, true).size() > tail.size()) {
        ::close(fd);
        return tail;
      }
    }
    window = std::min({size, max_bytes, window * 4});
  }
}

}  // namespace contd::zbus
