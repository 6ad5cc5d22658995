#pragma once
// Names for things integration tests create on the host (containerd namespaces, network
// namespaces, cgroups): unique across concurrently running test processes, and valid as a
// containerd identifier ([A-Za-z0-9]+ joined by single '.', '_' or '-').

#include <string>
#include <string_view>

namespace contd::testing {

// "<prefix>-<pid>-<counter>-<random>", e.g. "it-4711-3-9f2c1a". `prefix` must itself be a
// valid identifier; keep it short (the result stays under 40 characters for a prefix of
// up to 8). Thread-safe.
std::string uniqueName(std::string_view prefix);

}  // namespace contd::testing
