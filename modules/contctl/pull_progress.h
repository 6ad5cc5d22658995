#pragma once
// The progress display of `contctl pull`: one line per blob, updated as the daemon's
// PullImageProgress messages arrive.
//
//   manifest  sha256:5f1c2a…  resolved
//   layer 1   sha256:9a8b7c…  fetching   12.0 MiB / 40.0 MiB   30%
//   layer 2   sha256:0d1e2f…  cached
//
// On a terminal the block is redrawn in place (render(), cursor moved up by the caller);
// elsewhere one line is printed per change of state (changes()), never per byte count.
//
// Threading: one owner.

#include <cstddef>
#include <string>
#include <vector>

#include "contd/v1/containers.pb.h"

namespace contd::contctl {

class PullProgressView {
public:
  // Takes one message. Returns the lines whose state changed (for a log-style output);
  // a FETCHING step that only moves the byte count returns none.
  std::vector<std::string> update(const v1::PullImageProgress& step);
  // Every line, in the order the blobs first appeared.
  std::vector<std::string> render() const;

private:
  struct Row {
    std::string label;  // "manifest", "layer 1"
    std::string digest;
    v1::PullImageProgress::State state = v1::PullImageProgress::STATE_UNSPECIFIED;
    std::uint64_t offset = 0;
    std::uint64_t total = 0;
  };
  std::string line(const Row& row) const;
  std::vector<Row> rows_;
  std::size_t layers_ = 0;
};

// "12.0 MiB", "512 B".
std::string humanBytes(std::uint64_t bytes);

}  // namespace contd::contctl
