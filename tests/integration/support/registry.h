#pragma once
// A real OCI registry of the test's own on loopback (the CNCF distribution registry v2,
// Debian's docker-registry), filled with test images by skopeo, never a registry on the
// network:
//
//   <temp dir>/                     e.g. /tmp/contd-registry-Ab12Cd
//   ├── config.yml                  written by start(): http on 127.0.0.1:<port>, access log on
//   ├── htpasswd                    bcrypt entry of Options::user (only with basic_auth)
//                                   (with Options::token_auth the config points at the token
//                                   server's realm and certificate instead, see TokenServer)
//   ├── registry.log                the registry's stdout and stderr (logText(), blobGets())
//   ├── storage/                    filesystem storage (blobPath())
//   │   └── docker/registry/v2/blobs/sha256/<2 hex>/<64 hex>/data
//   └── skopeo/                     skopeo's side of push(): an empty registries.conf and
//                                   registries.d, its temp files
//
// The registry logs two lines per request: a logrus line (time=… level=info msg="response
// completed" …) and, from the access log, an Apache combined log line:
//   127.0.0.1 - - [24/Nov/2026:01:03:26 +0000] "GET /v2/test/two/blobs/sha256:<hex> HTTP/1.1"
//     200 115 "" "contd"
// (one line: client, identity and user "-" even with basic auth, time, request line,
// status, bytes of the body sent, referer, user agent).
// blobGets() and blobBytesSent() read the second kind. The access log line is written once
// the handler has returned, which may be a moment after the client got the last byte: use
// awaitBlobGets() where a test checks right after a fetch.
//
// Only the process start() made is ever signalled, by its pid. It is started with
// PR_SET_PDEATHSIG=SIGTERM, so a crashed test does not leave it running: start it from a
// thread that lives as long as it should (the test's main thread).
//
// Threading: one owner. The registry may be used over HTTP from any thread; logText() and
// blobGets() only read the log file and may run while it is being written.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::testing {

// What the registry tests need and this machine lacks, as one line ("needs skopeo on PATH
// (package skopeo)"); empty when nothing is missing. Checks the docker-registry, skopeo and
// htpasswd programs on PATH (packages docker-registry, skopeo, apache2-utils).
std::string missingRegistryPrerequisites();

class LocalRegistry {
public:
  struct Options {
    // Require HTTP basic auth (htpasswd file, realm "contd-test") for every request.
    bool basic_auth = false;
    // Require a Bearer token of a token server for every request (auth: token: in the
    // config): the registry's 401 challenge names `realm` and `service`, and it accepts
    // RS256 tokens from `issuer` whose x5c certificate chains to `root_cert_bundle` (a PEM
    // file). See TokenServer. Mutually exclusive with basic_auth.
    struct TokenAuth {
      std::string realm;  // "http://127.0.0.1:<port>/token"
      std::string service;
      std::string issuer;
      std::string root_cert_bundle;
    };
    std::optional<TokenAuth> token_auth;
    // push()'s credentials with basic_auth or token_auth, and the htpasswd entry.
    std::string user = "tester";
    std::string password = "secret";
    std::chrono::milliseconds start_timeout{10'000};  // until GET /v2/ answers
    std::chrono::milliseconds stop_timeout{10'000};   // SIGTERM, then SIGKILL
  };

  // Creates the temp dir, picks a free port on 127.0.0.1, writes the config (and the
  // htpasswd file), starts `docker-registry serve` (found on PATH) and waits until
  // GET /v2/ answers 200 (401 with basic_auth or token_auth). A port another process took in the
  // meantime is replaced by a new one. Errors: kNotFound without docker-registry or
  // htpasswd on PATH; kUnavailable when the registry exits early or does not answer in
  // time (the message ends with the tail of its log); kInternal for file and process
  // errors; kInvalidArgument for basic_auth with token_auth.
  static Result<std::unique_ptr<LocalRegistry>> start();
  static Result<std::unique_ptr<LocalRegistry>> start(Options options);

  // stop(), then removes the temp dir. Failures are reported on stderr.
  ~LocalRegistry();
  LocalRegistry(const LocalRegistry&) = delete;
  LocalRegistry& operator=(const LocalRegistry&) = delete;

  // "127.0.0.1:<port>", the host part of image references and URLs.
  std::string host() const;
  std::uint16_t port() const { return port_; }
  const Options& options() const { return options_; }
  std::string dir() const { return dir_.string(); }
  std::string logPath() const;
  // The whole log (stdout and stderr of every run of the registry), "" when there is none.
  std::string logText() const;
  // The last `max_bytes` of the log, for failure messages.
  std::string logTail(std::size_t max_bytes = 4096) const;
  // The registry's pid while it runs, else 0.
  pid_t pid() const { return pid_; }

  // The digests of the successful (2xx) GET /v2/<repository>/blobs/<digest> requests in
  // the access log, oldest first (a digest fetched twice is listed twice). HEAD requests
  // and failed GETs are not listed.
  std::vector<std::string> blobGets(std::string_view repository) const;
  // The sum of the bytes-sent field of the same lines.
  std::uint64_t blobBytesSent(std::string_view repository) const;
  // blobGets(), polled until it lists at least `count` requests or `timeout` passes;
  // returns what it saw last.
  std::vector<std::string> awaitBlobGets(std::string_view repository, std::size_t count,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(
                                             5)) const;

  // Pushes an archive into the registry as <host()>/<repo_and_tag> with skopeo (found on
  // PATH): `format` is "oci-archive" or "docker-archive"; all_platforms copies every image
  // of an index (skopeo copy --all), else the one for this machine. skopeo talks only to
  // this registry: proxies are unset, registries.conf and registries.d are empty ones of
  // the temp dir, signature policy is off (--insecure-policy), credentials are Options'
  // (basic_auth, token_auth: skopeo asks the token server for a pull,push token with them)
  // or none. Errors: kInvalidArgument for an unknown format or a path with
  // ':' in it (skopeo would split it); kNotFound without skopeo; kInternal when skopeo
  // fails (its stderr in the message).
  Status push(const std::string& archive_path, const std::string& format,
              const std::string& repo_and_tag, bool all_platforms = false);

  // The file the registry keeps blob `digest` ("sha256:<hex>") in, whether it exists or
  // not, so that a test can corrupt or delete it.
  std::string blobPath(const std::string& digest) const;

  // SIGTERM, SIGKILL after Options::stop_timeout, and reaps it. Idempotent.
  Status stop();
  // Starts the registry again after stop(), on the same port, config and storage. Retries
  // for a few seconds when the port is still (or again) taken; errors as for start().
  Status restart();

private:
  LocalRegistry(TempDir dir, Options options);

  // Writes the config for port_ and starts the registry, waiting until it answers.
  // `port_taken` is set when it failed because the port was in use.
  Status launch(bool* port_taken);

  TempDir dir_;
  Options options_;
  std::uint16_t port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace contd::testing
