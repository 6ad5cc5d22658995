#include "modules/daemon/journal_sink.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <systemd/sd-journal.h>

#include "modules/common/log_fields.h"
#include "modules/common/logging.h"

namespace contd::daemon {
namespace {

// Where journald listens for native records. sd_journal_sendv returns success without it
// ("fail silently if the journal is not available"), so its absence is checked here.
constexpr char kJournalSocket[] = "/run/systemd/journal/socket";

class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const int priority = log::syslogPriority(msg.level);
    const std::string_view message(msg.payload.data(), msg.payload.size());
    const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    const auto fields = log::journalFields(priority, logger, message);
    std::vector<iovec> vector;
    vector.reserve(fields.size());
    for (const auto& field : fields) {
      vector.push_back({const_cast<char*>(field.data()), field.size()});
    }
    const bool sent = ::access(kJournalSocket, W_OK) == 0 &&
                      ::sd_journal_sendv(vector.data(), static_cast<int>(vector.size())) >= 0;
    if (!sent) {
      std::fprintf(stderr, "<%d>%.*s [%.*s] %.*s\n", priority,
                   static_cast<int>(spdlog::level::to_string_view(msg.level).size()),
                   spdlog::level::to_string_view(msg.level).data(),
                   static_cast<int>(logger.size()), logger.data(),
                   static_cast<int>(message.size()), message.data());
    }
  }
  void flush_() override {}
};

}  // namespace

std::shared_ptr<spdlog::sinks::sink> makeJournalSink() { return std::make_shared<JournalSink>(); }

}  // namespace contd::daemon
