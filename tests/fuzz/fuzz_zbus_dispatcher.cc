// A zbus request as it comes off Redis, through what the bridge does with it: decodeRequest,
// the Dispatcher (argument decoding, zosbase's checks in ContainerModule, ContainerSpec from
// the decoded Container), and the core's Run validation (validateSpec) in the backend, then
// the response encoded. The backend does nothing else: no containerd.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modules/container/validation.h"
#include "modules/zbus/dispatcher.h"

namespace {

using namespace contd;

// Run validates the spec as ContainerService::run does first; the rest answer "nothing".
class ValidatingBackend : public zbus::ContainerBackend {
public:
  Result<std::string> run(std::string_view ns, const container::ContainerSpec& spec) override {
    auto valid = container::validateSpec(ns, spec, container::ValidationEnv{});
    if (!valid) {
      return valid.error();
    }
    return valid->spec.name;
  }
  Result<zbus::ContainerView> inspect(std::string_view, std::string_view) override {
    return notFound("not found");
  }
  Status remove(std::string_view, std::string_view) override { return notFound("not found"); }
  Status signalDelete(std::string_view, std::string_view) override { return okStatus(); }
  Result<std::vector<std::string>> list(std::string_view) override {
    return std::vector<std::string>{};
  }
  Result<std::vector<std::string>> listNamespaces() override {
    return std::vector<std::string>{};
  }
  Status exec(std::string_view, std::string_view, std::chrono::nanoseconds,
              const std::vector<std::string>&) override {
    return okStatus();
  }
  Result<std::string> logsTail(std::string_view, std::string_view, std::size_t) override {
    return std::string();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ValidatingBackend backend;
  static zbus::ContainerModule module(backend);
  static zbus::Dispatcher dispatcher(module);
  auto request = zbus::decodeRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!request) {
    return 0;
  }
  zbus::Dispatcher::action(*request);
  auto response = dispatcher.handle(*request);
  if (!zbus::decodeResponse(zbus::encodeResponse(response))) {
    __builtin_trap();  // a response the bridge sends must decode
  }
  return 0;
}
