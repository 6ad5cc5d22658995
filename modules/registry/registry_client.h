#pragma once
// A client of the OCI distribution API (the "v2" registry protocol) for pulling: manifests
// and blobs of one repository, with the registry's auth challenge flow.
//
// Auth: a request goes out with what worked last for this repository (nothing, Basic, or a
// bearer token). On 401 the WWW-Authenticate challenge says what to do:
//   Basic  -> retry with the credentials (none given: kUnauthenticated)
//   Bearer -> GET <realm>?service=<service>&scope=repository:<repo>:pull (with Basic
//             credentials when given), take "token" (or "access_token") from the JSON
//             answer, retry with "Authorization: Bearer <token>"; the token is reused until
//             its expires_in (default 60 s) passes.
// A second 401 is kUnauthenticated ("credentials refused" / "credentials needed").
//
// Errors, each naming the registry host and the repository:
//   kNotFound          404 (manifest or blob unknown), with the registry's error message
//   kUnauthenticated   401 / 403 after the challenge flow
//   kUnavailable       host unreachable, transfer broken, 5xx, 429
//   kInvalidArgument   a manifest larger than 4 MiB or of an unknown media type
//   kFailedPrecondition  content whose sha256 does not match the digest asked for
//
// Thread-safety: fetchManifest/fetchBlob may be called from several threads at once.
// Passwords and tokens are never logged nor put in error messages.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "modules/common/result.h"
#include "modules/registry/http_client.h"
#include "modules/registry/reference.h"

namespace contd::registry {

// Media types a manifest request accepts, in the Accept header.
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kDockerManifestList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";

struct Credentials {
  std::string username;  // empty: anonymous
  std::string password;
};

struct Blob {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  std::uint64_t size = 0;
};

struct FetchedManifest {
  std::string media_type;  // from the body's mediaType, else the Content-Type header
  std::string digest;      // sha256 of the body (checked against the pinned digest)
  std::string body;
};

class RegistryClient {
public:
  struct Options {
    bool plain_http = false;  // http:// instead of https://
    Credentials credentials;
    // When bearer tokens expire is read from this clock; empty: std::chrono::steady_clock.
    // Tests set it to step over a token's expires_in.
    std::function<std::chrono::steady_clock::time_point()> now;
  };

  RegistryClient(std::shared_ptr<HttpClient> http, Reference reference, Options options);

  // GET /v2/<repo>/manifests/<reference> (a tag or "sha256:…").
  Result<FetchedManifest> fetchManifest(std::string_view reference);
  // GET /v2/<repo>/blobs/<digest>, the body streamed into `sink` as it arrives; the
  // sha256 and size of what arrived are checked against `blob` before returning ok.
  Status fetchBlob(const Blob& blob, const BodySink& sink);
  // A small blob (an image config) whole; at most 4 MiB.
  Result<std::string> fetchSmallBlob(const Blob& blob);

  const Reference& reference() const { return reference_; }
  // How many blob bodies were requested (GET blobs/) by this client, for tests of caching.
  std::uint64_t blobRequests() const;

private:
  // Sends `request` with the current authorization, running the challenge flow on 401.
  Result<HttpResponse> authorizedSend(HttpRequest request, const BodySink* sink);
  std::string baseUrl() const;

  std::shared_ptr<HttpClient> http_;
  Reference reference_;
  Options options_;
  mutable std::mutex mutex_;
  std::string authorization_;  // "Basic …" / "Bearer …", empty: none
  std::int64_t token_expiry_ms_ = 0;  // steady clock ms; 0: no expiry
  std::uint64_t blob_requests_ = 0;
};

}  // namespace contd::registry
