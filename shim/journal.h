#pragma once
// The shim's own troubles, sent to journald with the container's names as fields, using
// journald's native datagram protocol (/run/systemd/journal/socket) directly: what
// sd_journal_send does, without loading libsystemd and its compression libraries into a
// process that runs once per container. Without journald the message goes to stderr,
// which is /dev/null under containerd but visible when run by hand.
//
// Threading: one owner.

#include <string>
#include <string_view>

#include "shim/log_file.h"

namespace contd::shim {

class JournalReporter : public Reporter {
public:
  JournalReporter(std::string ns, std::string id) : ns_(std::move(ns)), id_(std::move(id)) {}
  ~JournalReporter() override;

  // Fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=contd-shim-logs, CONTAINER_ID,
  // CONTAINER_NAMESPACE (each only when not empty).
  void report(int priority, std::string_view message) override;

private:
  std::string ns_;
  std::string id_;
  int socket_ = -1;
};

}  // namespace contd::shim
