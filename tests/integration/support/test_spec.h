#pragma once
// The smallest OCI runtime spec that runs a process safely under runc, for tests of the
// containerd layer (contd's real spec comes from modules/container/spec_builder).
//
// It always has its own mount namespace and a /dev tmpfs: without them runc prepares the
// rootfs in the host's mount namespace and makes device nodes in the host directory
// (docs/containerd-facts.md). Also pid, ipc and uts namespaces, /proc, the network namespace
// joined by path.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace contd::testing {

struct TestSpec {
  std::string rootfs;             // absolute host path (root.path)
  std::vector<std::string> args;  // args[0] absolute: the spec has only the PATH below
  std::vector<std::string> env = {"PATH=/bin"};
  std::string netns_path;    // e.g. NetworkNamespace::path()
  std::string cgroups_path;  // "/<ns>/<id>"
  std::string hostname = "contd-test";
  // linux.resources.memory.limit (no swap limit: the tests run without swap).
  std::optional<std::int64_t> memory_limit_bytes;
};

// The spec as JSON text, ready for ContainerRecord::spec_json.
std::string testSpecJson(const TestSpec& spec);

// An OCI runtime-spec Process running `args` as root in "/" with PATH=/bin, for
// ExecRequest::process_spec_json.
std::string testProcessJson(const std::vector<std::string>& args);

}  // namespace contd::testing
