#pragma once
// What the RegistryClient tests (registry_client_test.cc, registry_client_auth_test.cc)
// share: a scripted HttpClient, the client over it, canned registry answers.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "modules/common/digest.h"
#include "modules/registry/registry_client.h"

namespace contd::registry {


// An HttpClient that answers with a handler and records what was sent. Like the real one,
// it hands the body of a 2xx answer to the sink (in chunks of at most 7 bytes).
class FakeHttpClient final : public HttpClient {
public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit FakeHttpClient(Handler handler) : handler_(std::move(handler)) {}

  Result<HttpResponse> send(const HttpRequest& request, const BodySink* sink) override {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    HttpResponse response = handler_(request);
    if (response.status >= 200 && response.status < 300 && sink != nullptr) {
      const std::string body = std::move(response.body);
      response.body.clear();
      for (std::size_t i = 0; i < body.size(); i += 7) {
        CONTD_RETURN_IF_ERROR((*sink)(std::string_view(body).substr(i, 7)));
      }
    }
    return response;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

private:
  Handler handler_;
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
};

inline constexpr char kPassword[] = "s3cret-pa55";
inline const std::string kBase = "http://127.0.0.1:5000/v2/test/two";

inline std::string sha256(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.digest();
}

inline std::string header(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

inline HttpResponse answer(long status, std::string body = {},
                    std::map<std::string, std::string> headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

inline HttpResponse registryError(long status, const std::string& code, const std::string& message) {
  return answer(
      status,
      R"({"errors":[{"code":")" + code + R"(","message":")" + message + R"(","detail":null}]})",
      {{"content-type", "application/json"}});
}

inline const std::string kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("config":{},"layers":[]})";

struct Harness {
  explicit Harness(FakeHttpClient::Handler handler, Credentials credentials = {})
      : http(std::make_shared<FakeHttpClient>(std::move(handler))),
        client(http, *parseReference("127.0.0.1:5000/test/two:1"),
               RegistryClient::Options{.plain_http = true,
                                       .credentials = std::move(credentials),
                                       .now = [this] { return now; }}) {}

  std::shared_ptr<FakeHttpClient> http;
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  RegistryClient client;
};

inline void expectNoSecret(const Error& error) {
  EXPECT_EQ(error.message.find(kPassword), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find("czNjcmV0"), std::string::npos) << error.message;  // base64
  EXPECT_EQ(error.message.find("tok-"), std::string::npos) << error.message;
}

inline HttpResponse basicChallenge() {
  return answer(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                {{"www-authenticate", R"(Basic realm="Registry Realm")"}});
}

// Answers 200 only to "Basic base64(user:s3cret-pa55)".
inline FakeHttpClient::Handler basicRegistry() {
  return [](const HttpRequest& request) {
    if (header(request, "Authorization") != "Basic dXNlcjpzM2NyZXQtcGE1NQ==") {
      return basicChallenge();
    }
    return answer(200, kManifest);
  };
}


inline const std::string kLayer = "layer bytes, more than one chunk of them";

inline Blob layerBlob() {
  return Blob{"application/vnd.oci.image.layer.v1.tar", sha256(kLayer), kLayer.size()};
}


}  // namespace contd::registry
