#pragma once
// Reads a container's log back: the file contd-shim-logs writes and its rotated
// predecessors, oldest first:
//
//   <log_root>/<ns>/<id>.log.<N>   oldest kept
//   ...
//   <log_root>/<ns>/<id>.log.1     newest rotated
//   <log_root>/<ns>/<id>.log       current
//
// Each line is a CRI record "<RFC3339Nano> <stdout|stderr> <F|P> <text>". P (partial)
// records are joined, per stream, with the records that follow, up to the F that ends the
// line. A line that is not a CRI record (containerd's file:// driver writes raw output) is
// returned as stdout text with no time. This is the one reader: the gRPC Logs, the zbus
// Logs and following (log_follower.h) all go through it (docs/logs.md).
//
// Thread-safety: none needed; every call reads the files afresh.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/common/time_format.h"

namespace contd::container {

struct LogLine {
  std::int64_t time = 0;  // unix nanos; 0 when the line carried none
  std::string stream;     // "stdout" or "stderr"
  std::string text;       // without the trailing newline
  // False when the log ends inside this line: its newline or its closing F record is not
  // written (yet). zbus keeps the difference: such a line gets no '\n'.
  bool complete = true;

  bool operator==(const LogLine&) const = default;
};

struct LogQuery {
  std::size_t tail = 0;      // only the last `tail` lines; 0 = all
  std::int64_t since = 0;    // only lines at or after this time (unix nanos); 0 = all
};

// Parses one CRI record (without its newline). nullopt when `record` is not one.
//
// The time field is recognised by its shape, "dddd-dd-ddTdd:dd:dd" and then at least one
// of [0-9.:+-Z] (the rule zbus Logs has always applied, so its text stays the same). Its
// value: UTC ("Z") or a "+hh:mm"/"-hh:mm" offset; 0 when the shape holds but the value is
// no valid time (the record is still one).
struct CriRecord {
  std::int64_t time = 0;
  std::string_view stream;
  bool partial = false;
  std::string_view text;
};
std::optional<CriRecord> parseCriRecord(std::string_view record);

// Joins CRI records (and plain lines) into log lines; keeps a partial line across calls.
// Used by the reads below and by the follower, which feeds a growing file piece by piece.
class LogLineAssembler {
public:
  // Feeds raw bytes; complete lines are appended to `out`.
  void feed(std::string_view bytes, std::vector<LogLine>& out);
  // The end of the input: a last line without newline and unfinished partials come out,
  // with complete = false. An unfinished partial without any text carries nothing and is
  // dropped.
  void finish(std::vector<LogLine>& out);
  // Forgets bytes of a record whose newline has not come: the file was cut back under them
  // (the writer truncates a failed half-written batch).
  void dropUnfinishedRecord() { pending_bytes_.clear(); }

  // For input that starts inside a log (a read from the end): the first line of each
  // stream may continue P records from before the start, so it may lack its head. Lines
  // put out from number certainFrom() on (counting from 0 over the assembler's life) are
  // whole; holdsUncertain() says a partial still held may be such a line.
  std::size_t certainFrom() const { return certain_from_; }
  bool holdsUncertain() const;

private:
  struct Partial {
    std::optional<LogLine> line;  // P records waiting for their F
    bool seen_end = false;        // an F of this stream came: what follows starts lines
  };
  void record(std::string_view line, bool terminated, std::vector<LogLine>& out);
  void emit(LogLine line, bool certain, std::vector<LogLine>& out);

  std::string pending_bytes_;  // an incomplete record (no newline yet)
  Partial stdout_;
  Partial stderr_;
  std::size_t emitted_ = 0;
  std::size_t certain_from_ = 0;
};

// The lines of `log_file` and its rotated files that match `query`, oldest first. With a
// tail, the files are read from their end, only as far back as the tail needs.
// kNotFound ("open '<log_file>': No such file or directory") when neither the file nor any
// rotated file exists.
Result<std::vector<LogLine>> readLog(const std::filesystem::path& log_file, const LogQuery& query);

// What readLog reads: `size` bytes of `fd` from its start; one log's spans, oldest first,
// are read as one stream. `path` names the file in errors.
struct LogSpan {
  int fd = -1;  // not owned
  std::uint64_t size = 0;
  std::filesystem::path path;
};

// readLog over spans already open, through `assembler` (the follower continues with it).
// With `finish`, what is unfinished at the end comes out as lines; without, it stays in
// `assembler`, and the read goes back far enough that a held partial is whole too.
Result<std::vector<LogLine>> readLogSpans(const std::vector<LogSpan>& spans,
                                          const LogQuery& query, bool finish,
                                          LogLineAssembler& assembler);

}  // namespace contd::container
