#pragma once
// zosbase's pkg.ContainerModule, the eight methods Go modules call over zbus, with zosbase's
// semantics (docs/zbus-wire.md section 10) on top of a ContainerBackend:
//   - Run: zosbase's checks first, in its order and words, then its defaults (CPU 0 -> 1,
//     Memory 0 -> 256 MiB, ShutdownTimeout 0 -> 3 s); returns the name as the id;
//   - Inspect: only the fields zosbase fills; other fields zero;
//   - List: an empty array (not nil) for an empty namespace; "" is refused as containerd
//     refuses it;
//   - SignalDelete of an unknown container succeeds; Delete of one fails with "not found".
// Every error is a method error (Output.Error), never a protocol error; messages are never
// empty.
//
// Thread-safety: as thread-safe as the backend (the module itself holds no state).

#include <cstdint>
#include <string>
#include <vector>

#include "modules/common/result.h"
#include "modules/container/container_spec.h"
#include "modules/zbus/codec.h"
#include "modules/zbus/container_backend.h"

namespace contd::zbus {

inline constexpr std::uint64_t kDefaultCpu = 1;
// zosbase writes 256*1024*1204 (a typo); contd means what zosbase meant. docs/zbus.md.
inline constexpr std::uint64_t kDefaultMemoryBytes = 256ULL * 1024 * 1024;
inline constexpr std::int64_t kDefaultShutdownTimeoutNs = 3'000'000'000;
inline constexpr std::size_t kLogsTailLines = 100;

class ContainerModule {
public:
  explicit ContainerModule(ContainerBackend& backend) : backend_(backend) {}

  Result<std::string> run(const std::string& ns, const Container& data);
  Status exec(const std::string& ns, const std::string& id, std::int64_t timeout_ns,
              const std::vector<std::string>& args);
  Result<GoSlice<std::string>> listNS();
  Result<GoSlice<std::string>> list(const std::string& ns);
  Result<Container> inspect(const std::string& ns, const std::string& id);
  Status signalDelete(const std::string& ns, const std::string& id);
  Status remove(const std::string& ns, const std::string& id);  // zbus "Delete"
  Result<std::string> logs(const std::string& ns, const std::string& id);

  // The ContainerSpec Run asks the core for: zosbase's defaults applied. The caller has
  // made zosbase's checks. Errors (kInvalidArgument): values contd cannot represent.
  static Result<container::ContainerSpec> toSpec(const Container& data);
  // The zbus view of an inspected container, as zosbase fills it.
  static Container fromView(const ContainerView& view);

private:
  ContainerBackend& backend_;
};

}  // namespace contd::zbus
