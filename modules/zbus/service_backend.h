#pragma once
// ContainerBackend over contd's ContainerService: the seam between the zbus bridge and the
// core. Inspect re-derives what the container really got (process env with the default
// PATH, argv, every OCI mount, the netns path) from the stored ContainerSpec through the
// same spec builder Run used; Logs is the core's tail (ContainerService::logs) as one text.
//
// Thread-safety: as ContainerService (every method concurrently; per-container serialised).

#include "modules/container/service.h"
#include "modules/zbus/container_backend.h"

namespace contd::zbus {

// The zbus Logs text of `lines`: each line's text, and a '\n' after every line the log has
// finished (the last one may not be yet). Byte for byte what zosbase callers compare.
std::string logsText(const std::vector<container::LogLine>& lines);

class ServiceBackend : public ContainerBackend {
public:
  explicit ServiceBackend(container::ContainerService& service) : service_(service) {}

  Result<std::string> run(std::string_view ns, const container::ContainerSpec& spec) override;
  Result<ContainerView> inspect(std::string_view ns, std::string_view id) override;
  Status remove(std::string_view ns, std::string_view id) override;
  Status signalDelete(std::string_view ns, std::string_view id) override;
  Result<std::vector<std::string>> list(std::string_view ns) override;
  Result<std::vector<std::string>> listNamespaces() override;
  // "execution timed out" or "non-zero exit code: N", as zosbase says it.
  Status exec(std::string_view ns, std::string_view id, std::chrono::nanoseconds timeout,
              const std::vector<std::string>& args) override;
  Result<std::string> logsTail(std::string_view ns, std::string_view id,
                               std::size_t lines) override;

private:
  container::ContainerService& service_;
};

}  // namespace contd::zbus
