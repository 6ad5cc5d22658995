#include "shim/journal.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace contd::shim {
namespace {

constexpr char kJournalSocket[] = "/run/systemd/journal/socket";

// One field in the binary-safe form: NAME '\n' <64-bit little-endian length> value '\n'.
void addField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.push_back('\n');
  std::uint64_t n = value.size();
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(n & 0xff));
    n >>= 8;
  }
  out.append(value);
  out.push_back('\n');
}

}  // namespace

JournalReporter::~JournalReporter() {
  if (socket_ >= 0) {
    ::close(socket_);
  }
}

void JournalReporter::report(int priority, std::string_view message) {
  std::string datagram;
  addField(datagram, "MESSAGE", message);
  addField(datagram, "PRIORITY", std::string(1, static_cast<char>('0' + (priority & 7))));
  addField(datagram, "SYSLOG_IDENTIFIER", "contd-shim-logs");
  if (!id_.empty()) {
    addField(datagram, "CONTAINER_ID", id_);
  }
  if (!ns_.empty()) {
    addField(datagram, "CONTAINER_NAMESPACE", ns_);
  }
  if (socket_ < 0) {
    socket_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, kJournalSocket, sizeof(kJournalSocket));
  if (socket_ >= 0 &&
      ::sendto(socket_, datagram.data(), datagram.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) >= 0) {
    return;
  }
  std::string line = "contd-shim-logs " + ns_ + "/" + id_ + ": ";
  line.append(message);
  line.push_back('\n');
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace contd::shim
