#include "modules/container/exec_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <future>

namespace contd::container {
namespace {

void closeFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

}  // namespace

Result<std::unique_ptr<OutputCapture>> OutputCapture::start(const std::filesystem::path& dir,
                                                            const std::string& name,
                                                            std::size_t limit) {
  std::unique_ptr<OutputCapture> capture(new OutputCapture());
  capture->limit_ = limit;
  capture->out_path_ = dir / (name + ".out");
  capture->err_path_ = dir / (name + ".err");
  const std::filesystem::path* paths[2] = {&capture->out_path_, &capture->err_path_};
  for (int i = 0; i < 2; ++i) {
    const auto& path = *paths[i];
    if (::mkfifo(path.c_str(), 0600) != 0) {
      return sysError("mkfifo '" + path.string() + "'", errno);
    }
    capture->read_fds_[i] = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (capture->read_fds_[i] < 0) {
      return sysError("open '" + path.string() + "'", errno);
    }
    capture->hold_fds_[i] = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (capture->hold_fds_[i] < 0) {
      return sysError("open '" + path.string() + "' for writing", errno);
    }
  }
  capture->wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (capture->wake_fd_ < 0) {
    return sysError("eventfd", errno);
  }
  capture->reader_ = std::thread([raw = capture.get()] { raw->read(); });
  return capture;
}

void OutputCapture::read() {
  char buffer[16 * 1024];
  int open_streams = 2;
  while (open_streams > 0) {
    pollfd fds[3] = {{read_fds_[0], POLLIN, 0}, {read_fds_[1], POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[2].revents != 0) {
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        output_.append(buffer, static_cast<std::size_t>(n));
        if (output_.size() > limit_) {
          output_.erase(0, output_.size() - limit_);
          truncated_ = true;
        }
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        closeFd(read_fds_[i]);
        --open_streams;
      }
    }
  }
}

std::string OutputCapture::finish(std::chrono::milliseconds grace, bool* truncated) {
  closeFd(hold_fds_[0]);
  closeFd(hold_fds_[1]);
  if (reader_.joinable()) {
    // The reader ends on EOF of both streams; a shim that keeps its ends open is cut short.
    auto done = std::async(std::launch::async, [this] { reader_.join(); });
    if (done.wait_for(grace) != std::future_status::ready) {
      const std::uint64_t one = 1;
      (void)::write(wake_fd_, &one, sizeof(one));
      done.wait();
    }
  }
  if (truncated != nullptr) {
    *truncated = truncated_;
  }
  return std::move(output_);
}

OutputCapture::~OutputCapture() {
  if (reader_.joinable()) {
    const std::uint64_t one = 1;
    (void)::write(wake_fd_, &one, sizeof(one));
    reader_.join();
  }
  for (int i = 0; i < 2; ++i) {
    closeFd(read_fds_[i]);
    closeFd(hold_fds_[i]);
  }
  closeFd(wake_fd_);
  std::error_code ec;
  std::filesystem::remove(out_path_, ec);
  std::filesystem::remove(err_path_, ec);
}

}  // namespace contd::container
