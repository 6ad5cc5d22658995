#pragma once
// Captures what an exec'd process writes, through two fifos that containerd's runc shim
// opens for writing (a bare path as an exec stdio URI means a fifo).
//
// Why not file://: containerd 1.6's file driver closes the shared file when stdout ends, so
// stderr written just before the exit can be lost. Fifos carry each stream to EOF.
//
// A fifo read end sees EOF while no writer has ever opened it, so the capture holds a write
// end of its own until finish(): EOF then means the shim has closed its ends too.
// Output is interleaved in arrival order; only the last `limit` bytes are kept.
// Threading: one owner; a reader thread of its own runs between start and finish.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "modules/common/result.h"

namespace contd::container {

class OutputCapture {
public:
  // Makes <dir>/<name>.out and <dir>/<name>.err fifos and starts reading them.
  static Result<std::unique_ptr<OutputCapture>> start(const std::filesystem::path& dir,
                                                      const std::string& name, std::size_t limit);
  ~OutputCapture();
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  std::string stdoutPath() const { return out_path_.string(); }
  std::string stderrPath() const { return err_path_.string(); }

  // Call once the process has exited: waits up to `grace` for the shim to close its ends,
  // stops reading, removes the fifos. `truncated` tells whether output was dropped.
  std::string finish(std::chrono::milliseconds grace, bool* truncated);

private:
  OutputCapture() = default;
  void read();

  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
  int read_fds_[2] = {-1, -1};
  int hold_fds_[2] = {-1, -1};  // our own write ends, so EOF waits for the shim
  int wake_fd_ = -1;            // an eventfd that ends the reader early
  std::size_t limit_ = 0;
  std::string output_;
  bool truncated_ = false;
  std::thread reader_;
};

}  // namespace contd::container
