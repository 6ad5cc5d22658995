#pragma once
// Whether a file is a network namespace a container may join: one that was made for it,
// never the host's nor contd's own. Asks the kernel (NS_GET_NSTYPE); any thread.

#include <filesystem>
#include <functional>
#include <string_view>

#include "modules/common/result.h"

namespace contd::container {

// OK when `path` is a network namespace file (a bind mount such as /var/run/netns/<name>)
// that is neither the host's network namespace (that of pid 1) nor contd's own, and does
// not lie under /proc (a process's namespace is not a pre-created one and goes away with
// the process). Errors (kInvalidArgument, the message starting with `field`): each case
// above, and a file the kernel does not take as a namespace ("not a network namespace").
Status checkJoinableNetns(std::string_view field, const std::filesystem::path& path);

// The shape of that check, so unit tests without network namespaces can give their own.
using NetnsCheck = std::function<Status(std::string_view field, const std::filesystem::path&)>;

}  // namespace contd::container
