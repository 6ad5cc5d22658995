#include "modules/container/log_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "modules/container/held_log_files.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

// A tail is looked for in the last 64 KiB first, then in 4 times as much each round.
constexpr std::uint64_t kFirstWindow = 64 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// "dddd-dd-ddTdd:dd:dd" and at least one more of [0-9.:+-Z].
bool hasRfc3339Shape(std::string_view field) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (field.size() < kShape.size() + 1) {
    return false;
  }
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !isDigit(field[i]) : field[i] != kShape[i]) {
      return false;
    }
  }
  return std::all_of(field.begin() + kShape.size(), field.end(), [](char c) {
    return isDigit(c) || c == '.' || c == ':' || c == '+' || c == '-' || c == 'Z';
  });
}

// The value of a time field of RFC 3339's shape; 0 when it is no valid time.
std::int64_t criTime(std::string_view field) {
  if (auto utc = parseRfc3339Nano(field)) {
    return *utc;
  }
  // "...+01:00": writers that format in the local zone (Go's time.RFC3339Nano) put one.
  const std::size_t n = field.size();
  if (n < 25 || (field[n - 6] != '+' && field[n - 6] != '-') || field[n - 3] != ':' ||
      !isDigit(field[n - 5]) || !isDigit(field[n - 4]) || !isDigit(field[n - 2]) ||
      !isDigit(field[n - 1])) {
    return 0;
  }
  std::string utc(field.substr(0, n - 6));
  utc += 'Z';
  auto local = parseRfc3339Nano(utc);
  if (!local) {
    return 0;
  }
  const std::int64_t hours = (field[n - 5] - '0') * 10 + (field[n - 4] - '0');
  const std::int64_t minutes = (field[n - 2] - '0') * 10 + (field[n - 1] - '0');
  const std::int64_t offset = (hours * 3600 + minutes * 60) * 1'000'000'000;
  std::int64_t utc_nanos = 0;
  const bool overflow = field[n - 6] == '+'
                            ? __builtin_sub_overflow(*local, offset, &utc_nanos)
                            : __builtin_add_overflow(*local, offset, &utc_nanos);
  return overflow ? 0 : utc_nanos;
}

// Feeds bytes [start, end of the spans) to `assembler`. A start inside the stream first
// skips to the next line, so no line is fed without its beginning.
Status readRange(const std::vector<LogSpan>& spans, std::uint64_t start,
                 LogLineAssembler& assembler, std::vector<LogLine>& out) {
  std::string buffer(kReadChunk, '\0');
  // From the byte before `start`: when it is a newline, `start` begins a line.
  bool skipping = start > 0;
  const std::uint64_t begin = skipping ? start - 1 : 0;
  std::uint64_t base = 0;  // where the span starts in the stream
  for (const auto& span : spans) {
    std::uint64_t offset = begin > base ? begin - base : 0;
    base += span.size;
    while (offset < span.size) {
      const std::uint64_t want = std::min<std::uint64_t>(kReadChunk, span.size - offset);
      const ssize_t n = ::pread(span.fd, buffer.data(), static_cast<std::size_t>(want),
                                static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return sysError("read '" + span.path.string() + "'", errno);
      }
      if (n == 0) {
        break;  // cut back since it was opened
      }
      offset += static_cast<std::uint64_t>(n);
      std::string_view bytes(buffer.data(), static_cast<std::size_t>(n));
      if (skipping) {
        const auto newline = bytes.find('\n');
        if (newline == std::string_view::npos) {
          continue;
        }
        bytes.remove_prefix(newline + 1);
        skipping = false;
      }
      assembler.feed(bytes, out);
    }
  }
  return okStatus();
}

// The last lines of `lines[from..]` that `query` selects, oldest first. `enough` says they
// are all the query wants (the tail is full).
std::vector<LogLine> pickLines(std::vector<LogLine>& lines, std::size_t from,
                               const LogQuery& query, bool& enough) {
  std::vector<LogLine> picked;
  for (std::size_t i = lines.size(); i > from && (query.tail == 0 || picked.size() < query.tail);
       --i) {
    LogLine& line = lines[i - 1];
    if (query.since != 0 && line.time != 0 && line.time < query.since) {
      continue;
    }
    picked.push_back(std::move(line));
  }
  enough = query.tail != 0 && picked.size() == query.tail;
  std::reverse(picked.begin(), picked.end());
  return picked;
}

}  // namespace

std::optional<CriRecord> parseCriRecord(std::string_view record) {
  const auto first = record.find(' ');
  if (first == std::string_view::npos || !hasRfc3339Shape(record.substr(0, first))) {
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
  return CriRecord{criTime(record.substr(0, first)), stream, tag == "P", text};
}

void LogLineAssembler::emit(LogLine line, bool certain, std::vector<LogLine>& out) {
  out.push_back(std::move(line));
  ++emitted_;
  if (!certain) {
    certain_from_ = emitted_;
  }
}

bool LogLineAssembler::holdsUncertain() const {
  return (stdout_.line && !stdout_.seen_end) || (stderr_.line && !stderr_.seen_end);
}

void LogLineAssembler::record(std::string_view line, bool terminated, std::vector<LogLine>& out) {
  auto cri = parseCriRecord(line);
  if (!cri) {
    emit(LogLine{0, "stdout", std::string(line), terminated}, true, out);
    return;
  }
  Partial& partial = cri->stream == "stdout" ? stdout_ : stderr_;
  if (!partial.line) {
    partial.line = LogLine{cri->time, std::string(cri->stream), "", true};
  }
  partial.line->text.append(cri->text);
  if (!cri->partial) {
    partial.line->complete = terminated;
    // Before the first F of a stream, its records may continue a line begun before the input.
    const bool certain = partial.seen_end;
    partial.seen_end = true;
    emit(std::move(*partial.line), certain, out);
    partial.line.reset();
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
      record(bytes.substr(start, end - start), true, out);
    } else {
      pending_bytes_.append(bytes.substr(start, end - start));
      record(pending_bytes_, true, out);
      pending_bytes_.clear();
    }
    start = end + 1;
  }
}

void LogLineAssembler::finish(std::vector<LogLine>& out) {
  if (!pending_bytes_.empty()) {
    const std::string last = std::move(pending_bytes_);
    pending_bytes_.clear();
    record(last, false, out);
  }
  for (Partial* partial : {&stdout_, &stderr_}) {
    if (partial->line && !partial->line->text.empty()) {
      partial->line->complete = false;
      emit(std::move(*partial->line), partial->seen_end, out);
    }
    partial->line.reset();
  }
}

Result<std::vector<LogLine>> readLogSpans(const std::vector<LogSpan>& spans,
                                          const LogQuery& query, bool finish,
                                          LogLineAssembler& assembler) {
  std::uint64_t total = 0;
  for (const auto& span : spans) {
    total += span.size;
  }
  // A tail is read from the end, in a window that grows until it holds enough whole lines:
  // a window starts at a line, but the first line of each stream in it may be the end of a
  // joined line whose P records lie before the window (LogLineAssembler::certainFrom).
  std::uint64_t window = query.tail == 0 ? total : std::min(total, kFirstWindow);
  for (;;) {
    const std::uint64_t start = total - window;
    LogLineAssembler attempt;
    std::vector<LogLine> lines;
    CONTD_RETURN_IF_ERROR(readRange(spans, start, attempt, lines));
    if (finish) {
      attempt.finish(lines);
    }
    const bool whole = start == 0;
    bool enough = false;
    auto picked = pickLines(lines, whole ? 0 : attempt.certainFrom(), query, enough);
    if (whole || (enough && !attempt.holdsUncertain())) {
      assembler = std::move(attempt);
      return picked;
    }
    window = std::min(total, window * 4);
  }
}

Result<std::vector<LogLine>> readLog(const fs::path& log_file, const LogQuery& query) {
  const auto files = holdLogFiles(log_file);
  if (files.empty()) {
    return sysError("open '" + log_file.string() + "'", ENOENT);
  }
  std::vector<LogSpan> spans;
  for (const auto& file : files) {
    spans.push_back(LogSpan{file.fd.get(), file.size, file.path});
  }
  LogLineAssembler assembler;
  return readLogSpans(spans, query, true, assembler);
}

}  // namespace contd::container
