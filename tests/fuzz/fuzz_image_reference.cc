// Image references (modules/registry/reference.cc) as users and API callers type them.
// What parses must give a name() that parses again to the same host and repository, unless
// the normalised name is over the 255 characters that apply to the name as typed (as in
// docker: "busybox" of 250 characters is accepted, docker.io/library/<it> is not).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modules/registry/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using contd::registry::parseReference;
  auto ref = parseReference(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!ref) {
    return 0;
  }
  (void)ref->manifestReference();
  (void)ref->endpointHost();
  if (ref->host.size() + 1 + ref->repository.size() > 255) {
    return 0;
  }
  auto again = parseReference(ref->name());
  if (!again || again->host != ref->host || again->repository != ref->repository) {
    __builtin_trap();
  }
  return 0;
}
