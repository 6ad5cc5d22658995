#pragma once
// contd's log lines sent to the journal natively (sd_journal_sendv), with their fields as
// journal fields (log_fields.h journalFields: MESSAGE, PRIORITY, NAMESPACE, CONTAINER, OP,
// CODE, ...), so that `journalctl -u contd CONTAINER=web` finds a container's lines. Used
// when stderr is connected to the journal (logging.h formatForStderr). A record the journal
// cannot take (its socket missing, or refused) is written to stderr instead, with its
// syslog priority prefix, which journald reads from a stream too.
//
// Threads: any (spdlog's mutex sink).

#include <memory>

#include <spdlog/sinks/sink.h>

namespace contd::daemon {

std::shared_ptr<spdlog::sinks::sink> makeJournalSink();

}  // namespace contd::daemon
