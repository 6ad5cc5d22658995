#pragma once
// Where the containerd contd talks to keeps its state (the bundles of its tasks live in
// <state>/io.containerd.runtime.v2.task): read from the running containerd's command line
// and config file, as containerd itself resolves them. Any thread.

#include <filesystem>
#include <optional>

namespace contd::container {

// The state dir of the running containerd whose gRPC address is `address` (compared after
// resolving symlinks): its --state flag, else `state` of its config (--config/-c, default
// /etc/containerd/config.toml), else /run/containerd. Its address: --address/-a, else the
// config's [grpc] address, else /run/containerd/containerd.sock. nullopt when no process
// under `proc` is such a containerd.
std::optional<std::filesystem::path> containerdStateDir(const std::filesystem::path& address,
                                                        const std::filesystem::path& proc);

}  // namespace contd::container
