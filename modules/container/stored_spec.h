#pragma once
// What Run stores in a container's record, read back in one parse: the OCI runtime spec the
// container was created with, and the ContainerSpec Run was given (defaults filled in),
// kept as the spec annotation io.contd.container (modules/common/record_schema.h).

#include <nlohmann/json.hpp>

#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/containerd/client.h"

namespace contd::container {

struct StoredSpec {
  nlohmann::json runtime;  // the OCI runtime spec
  ContainerSpec spec;
};

// kInternal naming the container when either part is unreadable (contd wrote both).
Result<StoredSpec> readStoredSpec(const containerd::ContainerRecord& record);

}  // namespace contd::container
