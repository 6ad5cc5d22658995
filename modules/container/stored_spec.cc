#include "modules/container/stored_spec.h"

#include "modules/common/record_schema.h"

namespace contd::container {

Result<StoredSpec> readStoredSpec(const containerd::ContainerRecord& record) {
  try {
    StoredSpec stored;
    stored.runtime = nlohmann::json::parse(record.spec_json);
    const auto& annotation = stored.runtime.at("annotations").at(kSpecAnnotation);
    auto spec = specFromJson(nlohmann::json::parse(annotation.get<std::string>()));
    if (!spec) {
      return spec.error().wrap("container '" + record.id + "': stored spec unreadable");
    }
    stored.spec = std::move(spec).value();
    return stored;
  } catch (const nlohmann::json::exception& e) {
    return internalError("container '" + record.id + "': stored spec unreadable: " + e.what());
  }
}

}  // namespace contd::container
