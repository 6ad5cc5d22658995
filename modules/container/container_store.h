#pragma once
// The one owner of a container's record in containerd, of its lock and of its io.contd.*
// labels (modules/common/record_schema.h). ContainerService and the Supervisor go through
// it; nothing else reads a record as "managed" or writes contd's labels.
//
// A record counts only when it carries io.contd.managed=true: containers contd did not make
// are invisible (kNotFound). Names outside containerd's identifier rule are refused with
// kInvalidArgument before anything reaches containerd.
//
// Thread-safety: every method may be called concurrently. lock() serialises the calls on
// one container; the methods themselves do not take it.

#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/container/key_locks.h"
#include "modules/container/lifecycle_labels.h"
#include "modules/containerd/client.h"

namespace contd::container {

class ContainerStore {
public:
  explicit ContainerStore(containerd::Client& client) : client_(client) {}

  [[nodiscard]] KeyLocks::Guard lock(std::string_view ns, std::string_view id);

  // The managed record; kNotFound in the wording Go callers of zbus test for
  // ("container \"<id>\" in namespace \"<ns>\": not found").
  Result<containerd::ContainerRecord> get(std::string_view ns, std::string_view id);
  // Whether the name is contd's to clean up after: true when containerd has no record of
  // that name at all, or a managed one.
  Result<bool> freeOrManaged(std::string_view ns, std::string_view id);
  // The managed records of `ns`.
  Result<std::vector<containerd::ContainerRecord>> list(std::string_view ns);
  // Every namespace containerd has, contd's or not.
  Result<std::vector<std::string>> allNamespaces();
  // Creates the namespace when missing, then the record labelled managed. A taken name is
  // kAlreadyExists ("container \"<id>\" in namespace \"<ns>\": already exists").
  Status create(std::string_view ns, containerd::ContainerRecord record);
  // Removes the record; an absent one is not an error.
  Status remove(std::string_view ns, std::string_view id);

  // Delete and SignalDelete mark a container first, so that the restart policy leaves its
  // exit alone even when the removal fails half-way.
  Status markStopping(std::string_view ns, std::string_view id);
  Status saveLifecycle(std::string_view ns, std::string_view id, const Lifecycle& lifecycle);
  // Replaces the record's OCI runtime spec (Update's new limits, stored_spec.h): the next
  // task of the container is made from it; the labels stay.
  Status saveSpec(std::string_view ns, std::string_view id, const std::string& spec_json);

private:
  containerd::Client& client_;
  KeyLocks locks_;
};

bool isManaged(const containerd::ContainerRecord& record);

}  // namespace contd::container
