#pragma once
// A network namespace for one test, made with `ip netns add` and removed with
// `ip netns delete`, so it sits where contd looks for a bare netns name:
// /var/run/netns/<name>.
//
// `ip netns add` also turns /var/run/netns into a shared bind mount the first time, and
// `ip netns delete` never undoes that. When the tests made that directory, the last test
// namespace to go removes it again (mount and directory), so a test run leaves no mount
// behind. The decision is taken under a lock on /var/run, held by all test processes, so
// parallel tests do not race each other.
//
// Threading: one owner. Creating and removing namespaces is safe from many threads and
// processes at once.

#include <memory>
#include <string>
#include <string_view>

#include "modules/common/result.h"

namespace contd::testing {

class NetworkNamespace {
public:
  // Adds namespace uniqueName(prefix). Errors: from running `ip` (kNotFound when it is not
  // on PATH, kInternal with its stderr when it fails).
  static Result<std::unique_ptr<NetworkNamespace>> create(std::string_view prefix = "contd-it");

  // remove(), reporting a failure on stderr.
  ~NetworkNamespace();
  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;

  const std::string& name() const { return name_; }
  // /var/run/netns/<name>: what an OCI spec's network namespace path names.
  std::string path() const;

  // Deletes the namespace (and /var/run/netns when the tests made it and it is now empty).
  // Idempotent.
  Status remove();

private:
  explicit NetworkNamespace(std::string name) : name_(std::move(name)) {}

  std::string name_;
  bool removed_ = false;
};

}  // namespace contd::testing
