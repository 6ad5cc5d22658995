#include "modules/metrics/textfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "modules/common/logging.h"
#include "modules/common/unique_fd.h"

namespace contd::metrics {

Status writeTextfile(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd.valid()) {
      return sysError("open '" + temp + "'", errno);
    }
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return sysError("write '" + temp + "'", err);
      }
      done += static_cast<std::size_t>(n);
    }
    // The umask may have narrowed the mode: node-exporter often runs as its own user.
    if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      return sysError("fchmod/fsync '" + temp + "'", err);
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return sysError("rename '" + temp + "' to '" + path + "'", err);
  }
  return okStatus();
}

Refresher::Refresher(Options options, std::function<void()> refresh,
                     std::function<std::string()> render)
    : options_(std::move(options)), refresh_(std::move(refresh)), render_(std::move(render)) {}

Refresher::~Refresher() { stop(); }

void Refresher::start() {
  round();
  thread_ = std::thread([this] { run(); });
}

void Refresher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      return;
    }
    stopping_ = true;
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  round();
}

void Refresher::round() {
  refresh_();
  if (options_.textfile.empty()) {
    return;
  }
  const Status written = writeTextfile(options_.textfile, render_());
  const std::string error = written ? std::string() : written.error().message;
  if (error != last_error_) {
    if (error.empty()) {
      log::contd()->info("op=metrics.textfile path={} written again", options_.textfile);
    } else {
      log::contd()->warn("op=metrics.textfile path={} error=\"{}\"", options_.textfile, error);
    }
    last_error_ = error;
  }
}

void Refresher::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
      break;
    }
    lock.unlock();
    round();
    lock.lock();
  }
}

}  // namespace contd::metrics
