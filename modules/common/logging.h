#pragma once
// contd's fixed set of named spdlog loggers. Write key=value pairs inside the format
// string so lines can be grepped: log::container()->info("started ns={} id={} pid={}", ...).

#include <memory>
#include <string_view>

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

namespace contd::log {

// How lines look on stderr.
enum class Format {
  // "2024-05-01T12:00:00.123456Z info [contd] ready socket=..."
  kPlain,
  // "<6>info [contd] ready socket=...": a syslog priority prefix (sd-daemon(3)) that journald
  // turns into the entry's PRIORITY, and no timestamp (journald adds its own). The daemon
  // sends to the journal natively instead when it can (modules/daemon/journal_sink.h); this
  // is the fallback.
  kJournal,
  // One JSON object per line (config key log_format "json"): time, level, logger, msg and
  // the line's key=value fields (log_fields.h jsonLogLine).
  kJson,
};

// Creates every logger once, writing to stderr at the given level
// ("trace", "debug", "info", "warn", "error"). Safe to call again to change the level.
void init(std::string_view level);
bool isValidLevel(std::string_view level);
// Switches every logger (and those made later) to `format`. Any thread.
void setFormat(Format format);
// Sends every logger's lines (and those of loggers made later) to `sink` instead of stderr
// (the journal); nullptr: stderr again. At start, before other threads log: a logger's
// sinks are not guarded against lines being written meanwhile.
void setSink(std::shared_ptr<spdlog::sinks::sink> sink);
// kJournal when stderr is connected to the journal: $JOURNAL_STREAM names stderr's device
// and inode (what systemd sets for StandardError=journal); else kPlain.
Format formatForStderr();
// The syslog priority (0-7) journald gives a line of `level`.
int syslogPriority(spdlog::level::level_enum level);

std::shared_ptr<spdlog::logger> contd();       // daemon life cycle
std::shared_ptr<spdlog::logger> containerd();  // calls into containerd
std::shared_ptr<spdlog::logger> container();   // the container module: run, delete, ...
std::shared_ptr<spdlog::logger> api();         // gRPC API calls and peers
std::shared_ptr<spdlog::logger> zbus();        // the zbus bridge: Redis, requests

}  // namespace contd::log
