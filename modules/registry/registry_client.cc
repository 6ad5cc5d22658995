// RegistryClient: manifests and blobs of one repository over the distribution API, the
// auth challenge flow (authorizedSend), and the checks of what arrives against its digest.

#include "modules/registry/registry_client.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include <nlohmann/json.hpp>

#include "modules/common/digest.h"
#include "modules/common/logging.h"
#include "modules/registry/auth_challenge.h"

namespace contd::registry {
namespace {

constexpr std::size_t kMaxManifestBytes = 4 << 20;
constexpr std::size_t kMaxSmallBlobBytes = 4 << 20;
constexpr double kDefaultTokenSeconds = 60;
constexpr double kMaxTokenSeconds = 24 * 3600;  // a longer-lived token is fetched again daily
constexpr char kSchema1[] = "application/vnd.docker.distribution.manifest.v1+json";
constexpr char kSchema1Signed[] = "application/vnd.docker.distribution.manifest.v1+prettyjws";

bool isSuccess(long status) { return status >= 200 && status < 300; }

bool isTag(std::string_view tag) {
  const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (tag.empty() || tag.size() > 128 || !word(tag.front())) {
    return false;
  }
  for (const char c : tag) {
    if (!word(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, data.size() - i);
    std::uint32_t bits = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      bits = (bits << 8) | (j < n ? static_cast<unsigned char>(data[i + j]) : 0u);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= n ? kAlphabet[(bits >> (18 - 6 * j)) & 0x3f] : '=';
    }
  }
  return out;
}

// Percent-encoding of a query value: everything but RFC 3986's unreserved characters.
std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

// The path of a URL without its query, for log lines.
std::string_view pathOf(std::string_view url) {
  const auto authority = url.find("://");
  const auto path = url.find('/', authority == std::string_view::npos ? 0 : authority + 3);
  if (path == std::string_view::npos) {
    return "/";
  }
  const std::string_view rest = url.substr(path);
  return rest.substr(0, rest.find_first_of("?#"));
}

// The messages of a registry's error body ({"errors":[{"code":…,"message":…}]}), joined;
// empty when the body is not one.
std::string registryMessage(const std::string& body) {
  std::string text;
  try {
    const auto json = nlohmann::json::parse(body);
    for (const auto& error : json.at("errors")) {
      std::string message = error.value("message", "");
      if (message.empty()) {
        message = error.value("code", "");
      }
      if (!message.empty()) {
        text += (text.empty() ? "" : "; ") + message;
      }
    }
  } catch (const nlohmann::json::exception&) {
    return {};
  }
  return text;
}

// An answer that is not 2xx as an error about `subject` ("registry H: repo:tag").
Error statusError(const std::string& subject, const HttpResponse& response, bool have_credentials) {
  const std::string detail = registryMessage(response.body);
  const std::string status = "HTTP " + std::to_string(response.status);
  const std::string status_detail = detail.empty() ? status : status + ": " + detail;
  switch (response.status) {
    case 404:
      return notFound(subject + ": " + (detail.empty() ? std::string("not found") : detail));
    case 401:
    case 403:
      return makeError(Code::kUnauthenticated, subject + ": credentials " +
                                                   (have_credentials ? "refused" : "needed") +
                                                   " (" + status_detail + ")");
    case 400:
      return invalidArgument(subject + ": " + status_detail);
    case 408:
    case 429:
      return unavailable(subject + ": " + status_detail);
    default:
      if (response.status >= 500) {
        return unavailable(subject + ": " + status_detail);
      }
      return makeError(Code::kUnknown, subject + ": unexpected " + status_detail);
  }
}

// "application/json; charset=utf-8" -> "application/json"
std::string withoutParameters(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  const auto begin = content_type.find_first_not_of(" \t");
  if (begin == std::string_view::npos) {
    return {};
  }
  const auto end = content_type.find_last_not_of(" \t");
  return std::string(content_type.substr(begin, end - begin + 1));
}

Result<std::string> manifestMediaType(const std::string& subject, const HttpResponse& response,
                                      const std::string& body) {
  std::string media_type;
  try {
    const auto json = nlohmann::json::parse(body);
    if (json.is_object() && json.contains("mediaType") && json["mediaType"].is_string()) {
      media_type = json["mediaType"].get<std::string>();
    }
  } catch (const nlohmann::json::exception& e) {
    return invalidArgument(subject + ": manifest is not JSON: " + e.what());
  }
  if (media_type.empty()) {
    if (const auto it = response.headers.find("content-type"); it != response.headers.end()) {
      media_type = withoutParameters(it->second);
    }
  }
  if (media_type == kSchema1 || media_type == kSchema1Signed) {
    return invalidArgument(subject + ": schema 1 manifests (" + media_type +
                           ") are not supported; push the image again with a current client");
  }
  if (media_type != kOciIndex && media_type != kOciManifest && media_type != kDockerManifestList &&
      media_type != kDockerManifest) {
    return invalidArgument(subject + ": unsupported manifest media type '" + media_type + "'");
  }
  return media_type;
}

struct Token {
  std::string value;
  std::int64_t lifetime_ms = 0;
};

// GET <realm>?service=…&scope=repository:<repo>:pull, with Basic credentials when given.
Result<Token> requestToken(HttpClient& http, const Challenge& challenge,
                           const std::string& repository, const Credentials& credentials,
                           const std::string& subject) {
  const auto realm_it = challenge.params.find("realm");
  const std::string realm = realm_it == challenge.params.end() ? "" : realm_it->second;
  if (realm.rfind("https://", 0) != 0 && realm.rfind("http://", 0) != 0) {
    return unavailable(subject + ": the registry's bearer challenge has no http(s) realm");
  }
  HttpRequest request;
  request.url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  if (const auto service = challenge.params.find("service"); service != challenge.params.end()) {
    request.url += "service=" + urlEncode(service->second) + "&";
  }
  request.url += "scope=" + urlEncode("repository:" + repository + ":pull");
  const bool have_credentials = !credentials.username.empty();
  if (have_credentials) {
    request.headers.emplace_back(
        "Authorization", "Basic " + base64(credentials.username + ":" + credentials.password));
  }
  auto response = http.send(request, nullptr);
  if (!response) {
    return response.error().wrap(subject + ": token request");
  }
  log::contd()->debug("registry token request path={} status={}", pathOf(request.url),
                      response->status);
  if (!isSuccess(response->status)) {
    return statusError(subject + ": token service", *response, have_credentials);
  }
  Token token;
  try {
    const auto json = nlohmann::json::parse(response->body);
    for (const char* key : {"token", "access_token"}) {
      if (json.contains(key) && json[key].is_string() && token.value.empty()) {
        token.value = json[key].get<std::string>();
      }
    }
    double seconds = kDefaultTokenSeconds;
    if (json.contains("expires_in") && json["expires_in"].is_number() &&
        json["expires_in"].get<double>() >= 1) {
      seconds = std::min(json["expires_in"].get<double>(), kMaxTokenSeconds);
    }
    token.lifetime_ms = static_cast<std::int64_t>(seconds * 1000);
  } catch (const nlohmann::json::exception&) {
    return unavailable(subject + ": the token service answered something that is not JSON");
  }
  if (token.value.empty()) {
    return unavailable(subject + ": the token service answered without a token");
  }
  return token;
}

// What to send after a 401, from its WWW-Authenticate challenges (Bearer before Basic).
struct Authorization {
  std::string header;            // "Basic …" / "Bearer …"
  std::int64_t lifetime_ms = 0;  // 0: for as long as it works
};

Result<Authorization> answerChallenge(HttpClient& http, const HttpResponse& unauthorized,
                                      const std::string& repository, const Credentials& credentials,
                                      const std::string& subject) {
  const bool have_credentials = !credentials.username.empty();
  const auto header = unauthorized.headers.find("www-authenticate");
  const auto challenges =
      parseChallenges(header == unauthorized.headers.end() ? "" : header->second);
  const auto find = [&](std::string_view scheme) -> const Challenge* {
    for (const auto& challenge : challenges) {
      if (challenge.scheme == scheme) {
        return &challenge;
      }
    }
    return nullptr;
  };
  if (const Challenge* bearer = find("bearer")) {
    auto token = requestToken(http, *bearer, repository, credentials, subject);
    if (!token) {
      return token.error();
    }
    return Authorization{"Bearer " + token->value, token->lifetime_ms};
  }
  if (find("basic") != nullptr) {
    if (!have_credentials) {
      return makeError(Code::kUnauthenticated,
                       subject + ": credentials needed (the registry asks for Basic auth)");
    }
    return Authorization{"Basic " + base64(credentials.username + ":" + credentials.password)};
  }
  return statusError(subject, unauthorized, have_credentials);
}

}  // namespace

RegistryClient::RegistryClient(std::shared_ptr<HttpClient> http, Reference reference,
                               Options options)
    : http_(std::move(http)), reference_(std::move(reference)), options_(std::move(options)) {
  if (!options_.now) {
    options_.now = [] { return std::chrono::steady_clock::now(); };
  }
}

std::uint64_t RegistryClient::blobRequests() const {
  std::lock_guard lock(mutex_);
  return blob_requests_;
}

std::string RegistryClient::baseUrl() const {
  return (options_.plain_http ? "http://" : "https://") + reference_.endpointHost() + "/v2/" +
         reference_.repository;
}

Result<HttpResponse> RegistryClient::authorizedSend(HttpRequest request, const BodySink* sink) {
  const bool counted = request.method == "GET" && request.url.find("/blobs/") != std::string::npos;
  const auto now_ms = [this] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(options_.now().time_since_epoch())
        .count();
  };
  const auto send = [&](const std::string& authorization) -> Result<HttpResponse> {
    HttpRequest attempt = request;
    if (!authorization.empty()) {
      attempt.headers.emplace_back("Authorization", authorization);
    }
    if (counted) {
      std::lock_guard lock(mutex_);
      ++blob_requests_;
    }
    auto response = http_->send(attempt, sink);
    log::contd()->debug("registry host={} repo={} method={} path={} status={}", reference_.host,
                        reference_.repository, attempt.method, pathOf(attempt.url),
                        response ? std::to_string(response->status) : "error");
    return response;
  };

  std::string authorization;
  const std::int64_t start_ms = now_ms();
  {
    std::lock_guard lock(mutex_);
    if (token_expiry_ms_ != 0 && start_ms >= token_expiry_ms_) {
      authorization_.clear();
      token_expiry_ms_ = 0;
    }
    authorization = authorization_;
  }
  auto response = send(authorization);
  if (!response || response->status != 401) {
    return response;
  }

  // The challenge flow, once per request.
  const auto answer =
      answerChallenge(*http_, *response, reference_.repository, options_.credentials,
                      "registry " + reference_.host + ": " + reference_.repository);
  if (!answer) {
    return answer.error();
  }
  authorization = answer->header;
  const std::int64_t expiry_ms = answer->lifetime_ms == 0 ? 0 : now_ms() + answer->lifetime_ms;
  {
    std::lock_guard lock(mutex_);
    authorization_ = authorization;
    token_expiry_ms_ = expiry_ms;
  }
  return send(authorization);
}

Result<FetchedManifest> RegistryClient::fetchManifest(std::string_view reference) {
  const bool pinned = isSha256Digest(reference);
  const std::string subject = "registry " + reference_.host + ": " + reference_.repository +
                              (pinned ? "@" : ":") + std::string(reference);
  if (!pinned && !isTag(reference)) {
    return invalidArgument(subject + ": manifest reference is neither a tag nor a sha256 digest");
  }
  HttpRequest request;
  request.url = baseUrl() + "/manifests/" + std::string(reference);
  request.headers.emplace_back("Accept", std::string(kOciIndex) + ", " + kOciManifest + ", " +
                                             kDockerManifestList + ", " + kDockerManifest);
  std::string body;
  bool too_large = false;
  const BodySink sink = [&](std::string_view chunk) -> Status {
    if (body.size() + chunk.size() > kMaxManifestBytes) {
      too_large = true;
      return invalidArgument(subject + ": manifest larger than 4 MiB");
    }
    body.append(chunk);
    return okStatus();
  };
  auto response = authorizedSend(std::move(request), &sink);
  if (!response) {
    // The challenge flow's errors name host and repository already.
    const bool named = too_large || response.error().code == Code::kUnauthenticated;
    return named ? response.error() : response.error().wrap(subject);
  }
  if (!isSuccess(response->status)) {
    return statusError(subject, *response, !options_.credentials.username.empty());
  }
  auto media_type = manifestMediaType(subject, *response, body);
  if (!media_type) {
    return media_type.error();
  }
  Sha256 hash;
  hash.update(body);
  FetchedManifest manifest{std::move(*media_type), hash.digest(), std::move(body)};
  if (pinned && manifest.digest != reference) {
    return failedPrecondition(subject + ": content does not match its digest (got " +
                              manifest.digest + ")");
  }
  return manifest;
}

Status RegistryClient::fetchBlob(const Blob& blob, const BodySink& sink) {
  const std::string subject =
      "registry " + reference_.host + ": " + reference_.repository + " blob " + blob.digest;
  if (!isSha256Digest(blob.digest)) {
    return invalidArgument(subject + ": digest is not sha256: and 64 lower-case hex digits");
  }
  Sha256 hash;
  std::uint64_t received = 0;
  bool sink_failed = false;  // an error of ours or the caller's sink: returned as it is
  const BodySink verifying = [&](std::string_view chunk) -> Status {
    if (received + chunk.size() > blob.size) {
      sink_failed = true;
      return failedPrecondition(subject + ": content does not match its digest (more than " +
                                std::to_string(blob.size) + " bytes)");
    }
    hash.update(chunk);
    received += chunk.size();
    auto status = sink(chunk);
    sink_failed = !status;
    return status;
  };
  HttpRequest request;
  request.url = baseUrl() + "/blobs/" + blob.digest;
  auto response = authorizedSend(std::move(request), &verifying);
  if (!response) {
    const bool named = sink_failed || response.error().code == Code::kUnauthenticated;
    return named ? response.error() : response.error().wrap(subject);
  }
  if (!isSuccess(response->status)) {
    return statusError(subject, *response, !options_.credentials.username.empty());
  }
  const std::string digest = hash.digest();
  if (received != blob.size || digest != blob.digest) {
    return failedPrecondition(subject + ": content does not match its digest (got " + digest +
                              ", " + std::to_string(received) + " bytes)");
  }
  return okStatus();
}

Result<std::string> RegistryClient::fetchSmallBlob(const Blob& blob) {
  if (blob.size > kMaxSmallBlobBytes) {
    return invalidArgument("registry " + reference_.host + ": " + reference_.repository + " blob " +
                           blob.digest + ": larger than 4 MiB (" + std::to_string(blob.size) +
                           " bytes)");
  }
  std::string data;
  data.reserve(blob.size);
  CONTD_RETURN_IF_ERROR(fetchBlob(blob, [&](std::string_view chunk) -> Status {
    data.append(chunk);
    return okStatus();
  }));
  return data;
}

}  // namespace contd::registry
