#pragma once
// contctl import: an absolute path is read by contd on its host (ImportImage, as before); a
// relative path, or "-" for stdin, is read by contctl and sent over the call
// (ImportImageStream) in 1 MiB chunks, with a progress bar on stderr when that is a
// terminal (docs/images.md).

#include <chrono>
#include <cstdint>
#include <string>

#include "modules/contctl/args.h"
#include "modules/contctl/client.h"

namespace contd::contctl {

// Whether `path` is sent by contctl rather than read by contd: "-" or a relative path.
bool sentByContctl(const std::string& path);

// The progress line (no newline), `width` columns at most:
// "sending 12.3MB / 45.6MB  27% [=======>                  ]", or "sending 12.3MB" when
// the total is unknown (stdin).
std::string uploadProgressLine(std::uint64_t sent, std::uint64_t total, std::size_t width);

// Prints NAME DIGEST SIZE (or JSON) and returns 0, or prints the error and returns 1.
int importCommand(Client& client, const Invocation& inv);

}  // namespace contd::contctl
