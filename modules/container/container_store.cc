#include "modules/container/container_store.h"

#include "modules/common/names.h"
#include "modules/common/record_schema.h"

namespace contd::container {
namespace {

std::string containerWords(std::string_view ns, std::string_view id) {
  return "container \"" + std::string(id) + "\" in namespace \"" + std::string(ns) + "\"";
}

}  // namespace

bool isManaged(const containerd::ContainerRecord& record) {
  auto it = record.labels.find(kManagedLabel);
  return it != record.labels.end() && it->second == "true";
}

KeyLocks::Guard ContainerStore::lock(std::string_view ns, std::string_view id) {
  return locks_.lock(std::string(ns) + "/" + std::string(id));
}

Result<containerd::ContainerRecord> ContainerStore::get(std::string_view ns, std::string_view id) {
  // Every operation on an existing container starts here, from either adapter: a name
  // outside the identifier rule is refused before it can reach containerd.
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  CONTD_RETURN_IF_ERROR(validateName("id", id));
  auto record = client_.getContainer(ns, id);
  if (!record && record.error().code != Code::kNotFound) {
    return record.error();
  }
  if (!record || !isManaged(*record)) {
    return notFound(containerWords(ns, id) + ": not found");
  }
  return record;
}

Result<bool> ContainerStore::freeOrManaged(std::string_view ns, std::string_view id) {
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  CONTD_RETURN_IF_ERROR(validateName("id", id));
  auto record = client_.getContainer(ns, id);
  if (!record) {
    if (record.error().code == Code::kNotFound) {
      return true;
    }
    return record.error();
  }
  return isManaged(*record);
}

Result<std::vector<containerd::ContainerRecord>> ContainerStore::list(std::string_view ns) {
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  auto records = client_.listContainers(ns, {{kManagedLabel, "true"}});
  if (!records) {
    return records.error().wrap("list containers in '" + std::string(ns) + "'");
  }
  return records;
}

Result<std::vector<std::string>> ContainerStore::allNamespaces() {
  return client_.listNamespaces();
}

Status ContainerStore::create(std::string_view ns, containerd::ContainerRecord record) {
  CONTD_RETURN_IF_ERROR(client_.ensureNamespace(ns));
  record.labels[kManagedLabel] = "true";
  if (auto created = client_.createContainer(ns, record); !created) {
    if (created.error().code == Code::kAlreadyExists) {
      return alreadyExists(containerWords(ns, record.id) + ": already exists");
    }
    return created.error().wrap("create container '" + record.id + "'");
  }
  return okStatus();
}

Status ContainerStore::remove(std::string_view ns, std::string_view id) {
  if (auto deleted = client_.deleteContainer(ns, id);
      !deleted && deleted.error().code != Code::kNotFound) {
    return deleted.error().wrap("delete container");
  }
  return okStatus();
}

Status ContainerStore::markStopping(std::string_view ns, std::string_view id) {
  return client_.setLabels(ns, id, {{kStoppingLabel, "true"}});
}

Status ContainerStore::saveLifecycle(std::string_view ns, std::string_view id,
                                     const Lifecycle& lifecycle) {
  return client_.setLabels(ns, id, lifecycleLabels(lifecycle));
}

Status ContainerStore::saveSpec(std::string_view ns, std::string_view id,
                                const std::string& spec_json) {
  return client_.setSpec(ns, id, spec_json);
}

}  // namespace contd::container
