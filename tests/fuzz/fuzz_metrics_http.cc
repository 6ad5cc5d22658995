// The /metrics listener's input (modules/metrics/http_listener.cc): any bytes as a request
// (whole or cut short), and as a metrics_listen address.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "modules/metrics/http_listener.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto body = [] { return std::string("m 1\n"); };
  for (const bool complete : {true, false}) {
    const std::string reply = contd::metrics::httpResponse(input, complete, body);
    // Every answer is a whole HTTP/1.1 response that closes the connection.
    if (!reply.starts_with("HTTP/1.1 ") || reply.find("Connection: close\r\n") == std::string::npos ||
        reply.find("\r\n\r\n") == std::string::npos) {
      std::abort();
    }
  }
  auto address = contd::metrics::parseListenAddress(input);
  (void)address;
  return 0;
}
