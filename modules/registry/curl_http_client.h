#pragma once
// HttpClient over libcurl (Debian's libcurl4-openssl-dev): TLS verified against the
// system's CA store, redirects followed (Authorization is not sent to another host),
// DNS answers and TLS sessions shared between calls (a curl share handle), connections
// reused through a small pool of idle easy handles, a stalled transfer (below 1 KiB/s for
// `stall_timeout`) aborted.
//
// Thread-safety: as HttpClient; each send() holds an easy handle of its own for the
// transfer (libcurl does not support a connection cache shared between threads).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "modules/registry/http_client.h"

namespace contd::registry {

class CurlHttpClient final : public HttpClient {
public:
  struct Options {
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds stall_timeout{30'000};
    std::string user_agent = "contd";
  };

  // Errors: kInternal when libcurl cannot be initialised.
  static Result<std::shared_ptr<CurlHttpClient>> create(Options options);
  ~CurlHttpClient() override;

  Result<HttpResponse> send(const HttpRequest& request, const BodySink* sink) override;

private:
  struct Shared;
  explicit CurlHttpClient(Options options, std::unique_ptr<Shared> shared);
  Options options_;
  std::unique_ptr<Shared> shared_;
};

// A TLS handshake (libcurl's CURLE_SSL_CONNECT_ERROR, `tls_connect_failed`) that a
// registry answered in plain HTTP, as OpenSSL's `detail` tells it ("wrong version number"):
// kFailedPrecondition "registry 'HOST' answered in plain HTTP; pull with --plain-http
// (contctl) / plain_http (API) if it is meant to (TLS: <detail>)". nullopt for any other
// failure.
std::optional<Error> plainHttpAnswer(bool tls_connect_failed, std::string_view detail,
                                     std::string_view url);

}  // namespace contd::registry
