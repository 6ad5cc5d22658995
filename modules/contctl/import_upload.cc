// contctl import: the path contd reads, or the archive sent over the call with progress.

#include "modules/contctl/import_upload.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "modules/common/unique_fd.h"
#include "modules/contctl/error_text.h"
#include "modules/contctl/human.h"
#include "modules/contctl/output.h"

namespace contd::contctl {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kExitServer = 1;
constexpr std::size_t kChunk = 1 << 20;
constexpr auto kRedraw = std::chrono::milliseconds(100);

std::size_t terminalWidth(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) {
    return 80;
  }
  return size.ws_col;
}

// Redraws the progress line in place on stderr, at most every kRedraw and at the end.
class ProgressBar {
public:
  ProgressBar(bool shown, std::uint64_t total) : shown_(shown), total_(total) {}
  void update(std::uint64_t sent, bool last) {
    if (!shown_ || (!last && Clock::now() - drawn_ < kRedraw)) {
      return;
    }
    drawn_ = Clock::now();
    const std::string line = uploadProgressLine(sent, total_, terminalWidth(STDERR_FILENO));
    std::fprintf(stderr, "\r\x1b[K%s%s", line.c_str(), last ? "\n" : "");
    std::fflush(stderr);
  }

private:
  bool shown_;
  std::uint64_t total_;
  Clock::time_point drawn_{};
};

// The archive to send: stdin for "-", else the file, and its size when it has one.
Result<UniqueFd> openArchive(const std::string& path, std::uint64_t* size) {
  *size = 0;
  UniqueFd fd(path == "-" ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return sysError("open '" + path + "'", errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) {
    *size = static_cast<std::uint64_t>(st.st_size);
  } else if (path != "-" && ::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return invalidArgument("'" + path + "' is a folder, not an archive");
  }
  return fd;
}

Result<std::size_t> readChunk(int fd, const std::string& path, std::string* data) {
  data->resize(kChunk);
  for (;;) {
    const ssize_t n = ::read(fd, data->data(), data->size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return sysError("read '" + path + "'", errno);
    }
    data->resize(static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
  }
}

}  // namespace

bool sentByContctl(const std::string& path) { return path == "-" || path.front() != '/'; }

std::string uploadProgressLine(std::uint64_t sent, std::uint64_t total, std::size_t width) {
  std::string line = "sending " + humanSize(sent);
  if (total == 0) {
    return line.substr(0, width);
  }
  const std::uint64_t percent = std::min<std::uint64_t>(100, sent * 100 / total);
  line += " / " + humanSize(total) + "  " + std::to_string(percent) + "%";
  if (line.size() + 4 + 10 <= width) {
    const std::size_t bar = std::min<std::size_t>(40, width - line.size() - 4);
    const std::size_t filled = static_cast<std::size_t>(bar * percent / 100);
    line += " [" + std::string(filled, '=') + (filled < bar ? ">" : "") +
            std::string(bar - filled - (filled < bar ? 1 : 0), ' ') + "]";
  }
  return line.substr(0, width);
}

int importCommand(Client& client, const Invocation& inv) {
  Result<v1::ImportImageResponse> imported = makeError(Code::kUnknown, "not run");
  if (!sentByContctl(inv.path)) {
    imported = client.importImage(inv.ns, inv.path, inv.image_name);
  } else {
    v1::ImportImageHeader header;
    header.set_namespace_(inv.ns);
    header.set_name(inv.image_name);
    std::uint64_t size = 0;
    auto fd = openArchive(inv.path, &size);
    if (!fd) {
      std::fprintf(stderr, "contctl: %s\n", fd.error().message.c_str());
      return kExitServer;
    }
    header.set_size(size);
    ProgressBar bar(!inv.json && ::isatty(STDERR_FILENO) == 1, size);
    std::uint64_t sent = 0;
    imported = client.importImageStream(
        header, [&](std::string* data) { return readChunk(fd->get(), inv.path, data); },
        [&](std::uint64_t total_sent) {
          sent = total_sent;
          bar.update(sent, false);
        });
    bar.update(sent, true);
  }
  if (!imported) {
    printError(inv, imported.error().message);
    return kExitServer;
  }
  const auto& image = imported->image();
  const std::string text = inv.json ? toJson(*imported)
                                    : image.name() + "  " + image.digest() + "  " +
                                          std::to_string(image.size()) + "\n";
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace contd::contctl
