// TokenServer: RSA key and self-signed certificate (OpenSSL EVP and X509 APIs), RS256 JWTs
// with an x5c header, and a one-connection-at-a-time HTTP/1.1 server on 127.0.0.1.

#include "tests/integration/support/token_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace contd::testing {

struct TokenServer::Key {
  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  ~Key() {
    X509_free(cert);
    EVP_PKEY_free(pkey);
  }
};

namespace {

constexpr std::size_t kMaxRequestBytes = 64 * 1024;

// The last OpenSSL error as text, for messages.
Error opensslError(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char text[256] = "no OpenSSL error queued";
  if (code != 0) {
    ERR_error_string_n(code, text, sizeof(text));
  }
  ERR_clear_error();
  return internalError("token server: " + what + ": " + text);
}

std::string base64(std::string_view data, bool url) {
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, data.size() - i);
    std::uint32_t bits = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      bits = (bits << 8) | (j < n ? static_cast<unsigned char>(data[i + j]) : 0u);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      if (j <= n) {
        out += alphabet[(bits >> (18 - 6 * j)) & 0x3f];
      } else if (!url) {
        out += '=';  // base64url in JWTs goes without padding
      }
    }
  }
  return out;
}

// Standard base64 (padding optional) into *out; false on a character outside the alphabet.
bool base64Decode(std::string_view text, std::string* out) {
  out->clear();
  std::uint32_t bits = 0;
  int have = 0;
  for (const char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return false;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    have += 6;
    if (have >= 8) {
      have -= 8;
      *out += static_cast<char>((bits >> have) & 0xff);
    }
  }
  return true;
}

// Percent-decoding of a query component ('+' is a space).
std::string urlDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Splits "a,b,c".
std::vector<std::string> splitComma(const std::string& text) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) {
      parts.push_back(part);
    }
  }
  return parts;
}

std::string httpAnswer(int status, const std::string& body, const std::string& extra_headers) {
  const char* reason = status == 200 ? "OK" : status == 401 ? "Unauthorized" : "Not Found";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

// An RSA 2048 key and a self-signed CA certificate for it, valid from an hour ago for a day.
// Both are stored in `pkey` and `cert` as soon as made, so that their owner frees them
// whatever fails later.
Status makeSigningCertificate(EVP_PKEY*& pkey, X509*& cert) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx) <= 0 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) <= 0 || EVP_PKEY_keygen(ctx, &pkey) <= 0) {
    EVP_PKEY_CTX_free(ctx);
    return opensslError("generate an RSA key");
  }
  EVP_PKEY_CTX_free(ctx);

  cert = X509_new();
  X509_NAME* name = cert == nullptr ? nullptr : X509_get_subject_name(cert);
  X509V3_CTX v3{};
  if (cert == nullptr || X509_set_version(cert, 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600) == nullptr ||
      X509_set_pubkey(cert, pkey) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("contd test token signer"),
                                 -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert, name) != 1) {
    return opensslError("make the certificate");
  }
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
        std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign"},
        std::pair{NID_subject_key_identifier, "hash"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    const bool added = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    if (!added) {
      return opensslError("add a certificate extension");
    }
  }
  if (X509_sign(cert, pkey, EVP_sha256()) <= 0) {
    return opensslError("sign the certificate");
  }
  return okStatus();
}

// A listening TCP socket on 127.0.0.1 with a port the kernel picks.
Status listenOnLoopback(int& fd, std::uint16_t& port) {
  fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return sysError("token server: socket", errno);
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return sysError("token server: listen on 127.0.0.1", errno);
  }
  port = ntohs(addr.sin_port);
  return okStatus();
}

}  // namespace

TokenServer::TokenServer(TempDir dir, Options options)
    : dir_(std::move(dir)), options_(std::move(options)), key_(std::make_unique<Key>()) {}

Result<std::unique_ptr<TokenServer>> TokenServer::start() { return start(Options{}); }

Result<std::unique_ptr<TokenServer>> TokenServer::start(Options options) {
  auto dir = TempDir::make("contd-token");
  if (!dir) {
    return dir.error();
  }
  std::unique_ptr<TokenServer> server(new TokenServer(std::move(*dir), std::move(options)));
  Key& key = *server->key_;

  CONTD_RETURN_IF_ERROR(makeSigningCertificate(key.pkey, key.cert));
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(key.cert, &der);
  if (der_len <= 0) {
    return opensslError("encode the certificate");
  }
  server->cert_der_.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);

  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_X509(bio, key.cert) != 1) {
    BIO_free(bio);
    return opensslError("write the certificate as PEM");
  }
  char* pem_data = nullptr;
  const long pem_len = BIO_get_mem_data(bio, &pem_data);
  const std::string pem(pem_data, static_cast<std::size_t>(pem_len));
  BIO_free(bio);
  {
    std::ofstream out(server->certBundlePath(), std::ios::binary | std::ios::trunc);
    out << pem;
    if (!out.flush()) {
      return internalError("token server: write '" + server->certBundlePath() + "' failed");
    }
  }

  CONTD_RETURN_IF_ERROR(listenOnLoopback(server->listen_fd_, server->port_));
  server->thread_ = std::thread([s = server.get()] { s->acceptLoop(); });
  return server;
}

TokenServer::~TokenServer() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
  }
  if (Status s = dir_.remove(); !s) {
    std::cerr << "contd test support: " << s.error().message << "\n";
  }
}

std::string TokenServer::realm() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/token";
}

std::string TokenServer::certBundlePath() const { return dir_.string() + "/signer.pem"; }

std::vector<TokenServer::Request> TokenServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t TokenServer::tokenRequests() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

void TokenServer::acceptLoop() {
  while (!stopping_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 50);
    if (ready <= 0) {
      continue;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    serve(fd);
    ::close(fd);
  }
}

void TokenServer::serve(int fd) {
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  std::string data;
  char buf[4096];
  while (data.find("\r\n\r\n") == std::string::npos && data.size() < kMaxRequestBytes) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return;
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  const auto head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return;
  }
  std::istringstream head(data.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  std::istringstream request_line(line);
  std::string method;
  std::string target;
  request_line >> method >> target;
  std::string authorization;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string field = line.substr(0, colon);
    for (char& c : field) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (field == "authorization") {
      const auto value = line.find_first_not_of(" \t", colon + 1);
      authorization = value == std::string::npos ? "" : line.substr(value);
    }
  }
  std::string reply;
  if (method != "GET" || target.substr(0, target.find('?')) != "/token") {
    reply = httpAnswer(404, R"({"errors":[{"code":"NOT_FOUND","message":"GET /token only"}]})",
                       "");
  } else {
    const auto [status, body] = answer(target, authorization);
    reply = httpAnswer(status, body,
                       status == 401 ? "WWW-Authenticate: Basic realm=\"contd-test-token\"\r\n"
                                     : "");
  }
  std::size_t done = 0;
  while (done < reply.size()) {
    const ssize_t n = ::send(fd, reply.data() + done, reply.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

namespace {

// repository:<name>:<actions>; the name has no ':' of its own in these tests, but take
// the type up to the first ':' and the actions after the last, as distribution does.
// Pull is granted to anyone let in, push only to an authenticated user.
nlohmann::json grantedAccess(const std::vector<std::string>& scopes, bool authenticated) {
  nlohmann::json access = nlohmann::json::array();
  for (const auto& scope : scopes) {
    const auto first = scope.find(':');
    const auto last = scope.rfind(':');
    if (first == std::string::npos || first == last) {
      continue;
    }
    const std::string type = scope.substr(0, first);
    const std::string name = scope.substr(first + 1, last - first - 1);
    nlohmann::json granted = nlohmann::json::array();
    for (const auto& action : splitComma(scope.substr(last + 1))) {
      if (type == "repository" && (action == "pull" || (action == "push" && authenticated))) {
        granted.push_back(action);
      }
    }
    access.push_back({{"type", type}, {"name", name}, {"actions", granted}});
  }
  return access;
}

}  // namespace

std::pair<int, std::string> TokenServer::answer(const std::string& target,
                                                const std::string& authorization) {
  Request request;
  const auto query_start = target.find('?');
  if (query_start != std::string::npos) {
    std::istringstream query(target.substr(query_start + 1));
    std::string pair;
    while (std::getline(query, pair, '&')) {
      const auto eq = pair.find('=');
      const std::string key = urlDecode(pair.substr(0, eq));
      const std::string value = eq == std::string::npos ? "" : urlDecode(pair.substr(eq + 1));
      if (key == "service") {
        request.service = value;
      } else if (key == "scope") {
        request.scopes.push_back(value);
      } else if (key == "account") {
        request.account = value;
      }
    }
  }
  bool authenticated = false;
  bool bad_credentials = false;
  if (!authorization.empty()) {
    std::string decoded;
    const bool basic = authorization.rfind("Basic ", 0) == 0 &&
                       base64Decode(authorization.substr(6), &decoded) &&
                       decoded.find(':') != std::string::npos;
    if (basic) {
      request.user = decoded.substr(0, decoded.find(':'));
    }
    authenticated = basic && decoded == options_.user + ":" + options_.password;
    bad_credentials = !authenticated;
  }

  const auto finish = [&](int status, std::string body) {
    request.status = status;
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
    return std::pair{status, std::move(body)};
  };
  const auto refuse = [&](const std::string& why) {
    return finish(401, nlohmann::json{{"errors", {{{"code", "UNAUTHORIZED"}, {"message", why}}}}}
                           .dump());
  };
  if (bad_credentials) {
    return refuse("invalid username or password");
  }
  if (!authenticated && !options_.anonymous_pull) {
    return refuse("authentication required");
  }

  const nlohmann::json access = grantedAccess(request.scopes, authenticated);
  auto token = makeToken(authenticated ? options_.user : "", request.service, access.dump());
  if (!token) {
    std::cerr << "contd test support: " << token.error().message << "\n";
    return finish(500, R"({"errors":[{"code":"UNKNOWN","message":"signing failed"}]})");
  }
  const nlohmann::json body = {{"token", *token},
                               {"access_token", *token},
                               {"expires_in", options_.expires_in.count()},
                               {"issued_at", rfc3339(std::time(nullptr))}};
  return finish(200, body.dump());
}

Result<std::string> TokenServer::makeToken(const std::string& subject, const std::string& audience,
                                           const std::string& access_json) {
  const std::int64_t now = std::time(nullptr);
  const nlohmann::json header = {
      {"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {base64(cert_der_, false)}}};
  const nlohmann::json claims = {
      {"iss", options_.issuer},
      {"sub", subject},
      {"aud", audience},
      {"exp", now + options_.expires_in.count()},
      {"nbf", now - 10},
      {"iat", now},
      {"jti", "contd-test-" + std::to_string(next_jti_++)},
      {"access", nlohmann::json::parse(access_json)}};
  const std::string signing_input =
      base64(header.dump(), true) + "." + base64(claims.dump(), true);

  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::size_t sig_len = 0;
  if (md == nullptr || EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_->pkey) != 1 ||
      EVP_DigestSignUpdate(md, signing_input.data(), signing_input.size()) != 1 ||
      EVP_DigestSignFinal(md, nullptr, &sig_len) != 1) {
    EVP_MD_CTX_free(md);
    return opensslError("sign a token");
  }
  std::string signature(sig_len, '\0');
  if (EVP_DigestSignFinal(md, reinterpret_cast<unsigned char*>(signature.data()), &sig_len) != 1) {
    EVP_MD_CTX_free(md);
    return opensslError("sign a token");
  }
  EVP_MD_CTX_free(md);
  signature.resize(sig_len);
  return signing_input + "." + base64(signature, true);
}

}  // namespace contd::testing
