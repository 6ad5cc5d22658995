#pragma once
// The structured forms of contd's log lines. Lines are written with their fields inside the
// text, `key=value` (logging.h); these functions read the fields back out of the formatted
// message for the outputs that carry them apart: JSON lines (config key log_format "json")
// and the journal's native fields (under systemd). Pure functions; any thread.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace contd::log {

struct LogField {
  std::string key;
  std::string value;
  bool operator==(const LogField&) const = default;
};

// The `key=value` pairs of `message`, in order. A key is a lower-case letter followed by
// lower-case letters, digits and '_', at the start of the message or after a space, directly
// followed by '='. A value runs to the next space, or is a double-quoted string in which
// printable() escaped '"' and '\' with '\' (those escapes are undone; \xNN stays as text).
// Words without '=' (the event's name, "call", "ready") are not fields.
std::vector<LogField> logFields(std::string_view message);

// One JSON object, without a newline:
//   {"time":"2026-12-06T09:43:18.123456Z","level":"info","logger":"api","msg":"call op=Run ...",
//    "op":"Run","ns":"demo",...}
// msg is the whole message; each field follows as a string. A field named time, level,
// logger or msg is left out (the line's own keys win); a repeated key keeps its first value.
// Bytes that are not UTF-8 are replaced (U+FFFD).
std::string jsonLogLine(std::chrono::system_clock::time_point time, std::string_view level,
                        std::string_view logger, std::string_view message);

// The journal fields of a line ("KEY=value", for sd_journal_sendv): MESSAGE (the whole
// message), PRIORITY (syslog, 0-7), SYSLOG_IDENTIFIER=contd, CONTD_LOGGER (api, container,
// ...), and NAMESPACE (from ns= or namespace=), CONTAINER (id= or container=), OP (op=) and
// CODE (code=) when the line has them with a value.
std::vector<std::string> journalFields(int priority, std::string_view logger,
                                       std::string_view message);

}  // namespace contd::log
