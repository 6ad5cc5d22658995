#pragma once
// A token server of the test's own on 127.0.0.1 (an ephemeral port) for a LocalRegistry in
// token auth mode: the "Docker registry v2 token authentication" realm a registry's Bearer
// challenge points clients to.
//
//   GET /token?service=<service>&scope=repository:<repo>:<actions>[&scope=…][&account=…]
//   (Authorization: Basic <user:password> optional)
//     200 {"token": <JWT>, "access_token": <same>, "expires_in": N, "issued_at": <RFC 3339>}
//     401 when credentials are wrong, or missing and Options::anonymous_pull is off
//
// The JWT is RS256-signed with an RSA key made at start(); its header carries the key's
// self-signed X.509 certificate as "x5c", and the same certificate is written to
// certBundlePath(), the registry's rootcertbundle. Claims: iss (Options::issuer), sub (the
// user, "" when anonymous), aud (the service asked for), exp/nbf/iat, jti, and access: for
// every repository scope asked, the actions granted (pull and push with the right
// credentials; pull only without credentials when anonymous_pull is on).
//
//   <temp dir>/                     e.g. /tmp/contd-token-Ab12Cd
//   └── signer.pem                  the certificate, PEM (certBundlePath())
//
// Every request to /token is recorded (requests()), also those answered 401.
//
// Threading: one thread accepts and answers, one connection at a time (each answer closes
// its connection). The accessors may be called from any thread. The destructor stops the
// thread and removes the temp dir.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "modules/common/result.h"
#include "tests/integration/support/temp_dir.h"

namespace contd::testing {

class TokenServer {
public:
  struct Options {
    std::string service = "contd-test-registry";  // the registry's auth.token.service
    std::string issuer = "contd-test-token-server";
    std::string user = "tester";
    std::string password = "secret";
    // Grant pull (never push) to requests without credentials.
    bool anonymous_pull = false;
    std::chrono::seconds expires_in{300};
  };

  // One request to /token as it arrived.
  struct Request {
    std::string service;              // the service parameter, "" when absent
    std::vector<std::string> scopes;  // every scope parameter, in order
    std::string account;              // the account parameter, "" when absent
    std::string user;                 // the Basic auth user name, "" when none was sent
    int status = 0;                   // what the server answered
  };

  // Makes the key and certificate, writes the certificate, listens and starts the thread.
  // Errors: kInternal for OpenSSL, file and socket errors.
  static Result<std::unique_ptr<TokenServer>> start(Options options);
  static Result<std::unique_ptr<TokenServer>> start();

  ~TokenServer();
  TokenServer(const TokenServer&) = delete;
  TokenServer& operator=(const TokenServer&) = delete;

  const Options& options() const { return options_; }
  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>/token"
  std::string realm() const;
  // The PEM file with the signing certificate, for the registry's rootcertbundle.
  std::string certBundlePath() const;

  std::vector<Request> requests() const;
  std::size_t tokenRequests() const;

private:
  struct Key;  // the OpenSSL key and certificate

  TokenServer(TempDir dir, Options options);
  void acceptLoop();
  void serve(int fd);
  // The status and body of the answer to GET <target> with `authorization` (the header's
  // value, "" when absent); records the request.
  std::pair<int, std::string> answer(const std::string& target, const std::string& authorization);
  // A signed JWT; `access_json` is the access claim, a JSON array.
  Result<std::string> makeToken(const std::string& subject, const std::string& audience,
                                const std::string& access_json);

  TempDir dir_;
  Options options_;
  std::unique_ptr<Key> key_;
  std::string cert_der_;  // the certificate, DER, for the x5c header
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> next_jti_{1};
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace contd::testing
