// The zbus msgpack codec (modules/zbus/codec*.cc, msgpack_io.cc) on bytes from Redis: every
// decoder on the same input, and what decodes must survive encode -> decode unchanged
// (encoding is canonical, decoding forgiving, so the round trip is the identity).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "modules/zbus/codec.h"

namespace {

// Decodes `bytes`; when that works, the encoding must decode to the same value.
template <typename T, typename Encode>
void roundTrip(contd::Result<T> (*decode)(std::string_view), Encode encode,
               std::string_view bytes) {
  auto value = decode(bytes);
  if (!value) {
    return;
  }
  auto again = decode(encode(*value));
  if (!again || !(*again == *value)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace contd::zbus;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  roundTrip(&decodeString, [](const std::string& v) { return encodeString(v); }, bytes);
  roundTrip(&decodeStringSlice, &encodeStringSlice, bytes);
  roundTrip(&decodeDuration, &encodeDuration, bytes);
  roundTrip(&decodeTime, &encodeTime, bytes);
  roundTrip(&decodeContainer, &encodeContainer, bytes);
  roundTrip(&decodeStatus, &encodeStatus, bytes);
  roundTrip(&decodeRequest, &encodeRequest, bytes);
  roundTrip(&decodeResponse, &encodeResponse, bytes);
  return 0;
}
