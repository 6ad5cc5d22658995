#pragma once
// The HTTP client the registry client crosses to the network with. CurlHttpClient
// (curl_http_client.h) is the real one; unit tests give a fake.
//
// Thread-safety: send() may be called from several threads at once.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "modules/common/result.h"

namespace contd::registry {

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;  // the body when no sink took it (at most 4 MiB are kept)
};

// Takes the body of a 2xx answer chunk by chunk. An error aborts the transfer, and send()
// returns that error.
using BodySink = std::function<Status(std::string_view chunk)>;

class HttpClient {
public:
  virtual ~HttpClient() = default;
  // Sends `request`, following redirects. With a `sink`, the body of a 2xx answer goes to it
  // and response.body stays empty; other answers keep their (bounded) body in
  // response.body. A non-2xx status is not an error here.
  // Errors: kUnavailable when the host cannot be reached or the transfer breaks (naming
  // the host and the cause), kDeadlineExceeded when it stalls, or the sink's error.
  virtual Result<HttpResponse> send(const HttpRequest& request, const BodySink* sink) = 0;
};

}  // namespace contd::registry
