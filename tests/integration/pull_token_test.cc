// The Bearer token flow on real parts: Debian's docker-registry configured with
// `auth: token:` trusts a token server of the test's own (support/token_server.h: RS256 JWTs
// whose x5c certificate is the registry's rootcertbundle); skopeo pushes the test image
// through the same flow; contd's GrpcImageStore pulls it into a private containerd.
//
// Cases: a token server that wants credentials refuses an anonymous pull and a wrong
// password (kUnauthenticated, no password in the message); the right credentials pull, with a
// token asked for scope repository:<repo>:pull of the registry's service; one token serves
// the whole pull (manifest, config, two layers: only the first request is answered 401);
// a token server that grants anonymous pull tokens lets an anonymous pull through; a token
// signed by a key the registry does not trust is refused by the registry itself.
//
// Needs root, containerd, runc, ip, busybox-static, docker-registry, skopeo and htpasswd;
// skips without them (fails with CI=true).

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>

#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "modules/images/grpc_image_store.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/image_fixture.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/registry.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/token_server.h"
#include "tests/integration/support/unique_name.h"

namespace contd::images {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;

constexpr char kRepo[] = "test/two";
constexpr char kPassword[] = "token-secret-7f3a";

class PullTokenIT : public support::ImageFixture {
protected:
  PullTokenIT() : ImageFixture({"contd-pull-token", "pulltok", true}) {}

  void TearDown() override {
    ImageFixture::TearDown();
    registry_.reset();  // before the token server it trusts
    tokens_.reset();
  }

  // A token server (user "tester", kPassword), a registry trusting it, and the test image
  // pushed as test/two:1 by skopeo through the token flow. Sets tokens_ and registry_.
  void startWithImage(bool anonymous_pull) {
    support::TokenServer::Options token_options;
    token_options.password = kPassword;
    token_options.anonymous_pull = anonymous_pull;
    auto tokens = support::TokenServer::start(token_options);
    ASSERT_TRUE(tokens) << tokens.error().message;
    tokens_ = std::move(*tokens);

    // The registry trusts a copy of the certificate, which a test may replace.
    std::filesystem::copy_file(tokens_->certBundlePath(), trustedBundle());
    support::LocalRegistry::Options options;
    options.token_auth = support::LocalRegistry::Options::TokenAuth{
        tokens_->realm(), token_options.service, token_options.issuer, trustedBundle()};
    options.user = token_options.user;
    options.password = kPassword;
    auto registry = support::LocalRegistry::start(options);
    ASSERT_TRUE(registry) << registry.error().message;
    registry_ = std::move(*registry);

    const auto archive = dir_->path() / "two.tar";
    std::ofstream(archive, std::ios::binary) << support::ociArchive(image_, "test/two:1");
    const Status pushed = registry_->push(archive.string(), "oci-archive", "test/two:1");
    ASSERT_TRUE(pushed) << pushed.error().message << "\nregistry log:\n" << registry_->logTail();
    // skopeo went through the token flow: it asked for push and pull with the credentials.
    const auto requests = tokens_->requests();
    EXPECT_TRUE(std::any_of(requests.begin(), requests.end(), [](const auto& r) {
      return r.status == 200 && r.user == "tester" &&
             std::find(r.scopes.begin(), r.scopes.end(), "repository:test/two:pull,push") !=
                 r.scopes.end();
    })) << describe(requests);
    ref_ = registry_->host() + "/test/two:1";
  }

  std::string trustedBundle() const { return (dir_->path() / "trusted.pem").string(); }

  Result<ImageInfo> pull(const std::string& user = "", const std::string& password = "") {
    PullRequest request{ref_, user, password, true};
    return store_->pullImage(ns_, request, [](const PullProgress&) { return true; });
  }

  // The registry's access log lines answered 401, for requests of kRepo.
  std::size_t unauthorizedAnswers() const {
    std::size_t count = 0;
    std::istringstream lines(registry_->logText());
    std::string line;
    const std::string request = "\"GET /v2/" + std::string(kRepo) + "/";
    while (std::getline(lines, line)) {
      if (line.rfind("time=", 0) != 0 && line.find(request) != std::string::npos &&
          line.find("\" 401 ") != std::string::npos) {
        ++count;
      }
    }
    return count;
  }

  static std::string describe(const std::vector<support::TokenServer::Request>& requests) {
    std::string text = "token requests:";
    for (const auto& r : requests) {
      text += "\n  status=" + std::to_string(r.status) + " service=" + r.service +
              " user=" + r.user + " account=" + r.account + " scopes=";
      for (const auto& scope : r.scopes) {
        text += scope + " ";
      }
    }
    return text;
  }

  void expectNoImage() {
    auto images = store_->listImages(ns_);
    ASSERT_TRUE(images) << images.error().message;
    EXPECT_TRUE(images->empty());
  }

  std::unique_ptr<support::TokenServer> tokens_;
  std::unique_ptr<support::LocalRegistry> registry_;
  std::string ref_;
};

TEST_F(PullTokenIT, WithoutOrWithWrongCredentialsIsUnauthenticated) {
  ASSERT_NO_FATAL_FAILURE(startWithImage(/*anonymous_pull=*/false));
  const std::size_t before = tokens_->tokenRequests();

  auto anonymous = pull();
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code, Code::kUnauthenticated) << anonymous.error().message;
  EXPECT_NE(anonymous.error().message.find("credentials needed"), std::string::npos)
      << anonymous.error().message;
  EXPECT_NE(anonymous.error().message.find(registry_->host()), std::string::npos)
      << anonymous.error().message;

  auto wrong = pull("tester", "not-the-password");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::kUnauthenticated) << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("credentials refused"), std::string::npos)
      << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("not-the-password"), std::string::npos)
      << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find(kPassword), std::string::npos) << wrong.error().message;

  // Both went to the token server, which refused them; no blob was served.
  const auto requests = tokens_->requests();
  ASSERT_EQ(requests.size(), before + 2) << describe(requests);
  EXPECT_EQ(requests[before].status, 401);
  EXPECT_EQ(requests[before].user, "");
  EXPECT_EQ(requests[before + 1].status, 401);
  EXPECT_EQ(requests[before + 1].user, "tester");
  EXPECT_TRUE(registry_->blobGets(kRepo).empty());
  expectNoImage();
}

TEST_F(PullTokenIT, WithCredentialsPullsWithAPullScopedTokenOfTheService) {
  ASSERT_NO_FATAL_FAILURE(startWithImage(/*anonymous_pull=*/false));
  const std::size_t before = tokens_->tokenRequests();

  auto info = pull("tester", kPassword);
  ASSERT_TRUE(info) << info.error().message << "\n"
                    << describe(tokens_->requests()) << "\nregistry log:\n"
                    << registry_->logTail();
  EXPECT_EQ(info->name, ref_);
  EXPECT_EQ(info->diff_ids.size(), 2u);
  EXPECT_EQ(info->config.cmd, (std::vector<std::string>{"/bin/ls", "/etc"}));
  auto images = store_->listImages(ns_);
  ASSERT_TRUE(images) << images.error().message;
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ(images->front().name, ref_);

  const auto requests = tokens_->requests();
  ASSERT_GT(requests.size(), before) << describe(requests);
  const auto& asked = requests.back();
  EXPECT_EQ(asked.status, 200) << describe(requests);
  EXPECT_EQ(asked.service, tokens_->options().service) << describe(requests);
  EXPECT_EQ(asked.scopes, std::vector<std::string>{"repository:test/two:pull"})
      << describe(requests);
  EXPECT_EQ(asked.user, "tester");
  // config + two layers, served to the bearer of the token
  EXPECT_EQ(registry_->awaitBlobGets(kRepo, 3).size(), 3u) << registry_->logTail();
}

TEST_F(PullTokenIT, OneTokenServesTheWholePull) {
  ASSERT_NO_FATAL_FAILURE(startWithImage(/*anonymous_pull=*/false));
  const std::size_t tokens_before = tokens_->tokenRequests();
  const std::size_t unauthorized_before = unauthorizedAnswers();

  auto info = pull("tester", kPassword);
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_EQ(registry_->awaitBlobGets(kRepo, 3).size(), 3u) << registry_->logTail();
  // The client caches the token for its expires_in (300 s here): the manifest request is
  // answered 401 once, one token is fetched, and the retried manifest request, the config
  // and both layers (fetched in parallel) all carry it.
  EXPECT_EQ(tokens_->tokenRequests(), tokens_before + 1) << describe(tokens_->requests());
  EXPECT_EQ(unauthorizedAnswers(), unauthorized_before + 1) << registry_->logTail();

  // A second pull is a new RegistryClient (the token cache is per client): one more token,
  // one more 401, and no blob (everything is in containerd already).
  auto again = pull("tester", kPassword);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(tokens_->tokenRequests(), tokens_before + 2) << describe(tokens_->requests());
  EXPECT_EQ(unauthorizedAnswers(), unauthorized_before + 2) << registry_->logTail();
  EXPECT_EQ(registry_->blobGets(kRepo).size(), 3u);
}

TEST_F(PullTokenIT, AnonymousPullTokensLetAnAnonymousPullThrough) {
  ASSERT_NO_FATAL_FAILURE(startWithImage(/*anonymous_pull=*/true));
  const std::size_t before = tokens_->tokenRequests();

  auto info = pull();
  ASSERT_TRUE(info) << info.error().message << "\n"
                    << describe(tokens_->requests()) << "\nregistry log:\n"
                    << registry_->logTail();
  EXPECT_EQ(info->name, ref_);
  EXPECT_EQ(info->diff_ids.size(), 2u);

  const auto requests = tokens_->requests();
  ASSERT_EQ(requests.size(), before + 1) << describe(requests);
  EXPECT_EQ(requests.back().status, 200);
  EXPECT_EQ(requests.back().user, "");
  EXPECT_EQ(requests.back().service, tokens_->options().service);
  EXPECT_EQ(requests.back().scopes, std::vector<std::string>{"repository:test/two:pull"});

  // The same server still refuses a wrong password rather than falling back to anonymous.
  ASSERT_TRUE(store_->removeImage(ns_, ref_));
  auto wrong = pull("tester", "not-the-password");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::kUnauthenticated) << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("not-the-password"), std::string::npos);
}

TEST_F(PullTokenIT, ATokenOfAKeyTheRegistryDoesNotTrustIsRefused) {
  ASSERT_NO_FATAL_FAILURE(startWithImage(/*anonymous_pull=*/false));
  // The registry now trusts another server's certificate only: the tokens of tokens_ still
  // come (200), but the registry's signature check refuses them.
  auto other = support::TokenServer::start();
  ASSERT_TRUE(other) << other.error().message;
  ASSERT_TRUE(registry_->stop());
  std::filesystem::copy_file((*other)->certBundlePath(), trustedBundle(),
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(registry_->restart());
  const std::size_t before = tokens_->tokenRequests();

  auto refused = pull("tester", kPassword);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kUnauthenticated) << refused.error().message;
  EXPECT_NE(refused.error().message.find("credentials refused"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find(kPassword), std::string::npos);
  const auto requests = tokens_->requests();
  ASSERT_EQ(requests.size(), before + 1) << describe(requests);
  EXPECT_EQ(requests.back().status, 200);
  // distribution 2.8 logs why: "unable to verify certificate chain: x509: certificate
  // signed by unknown authority …", then "error authorizing context: invalid token".
  const std::string log = registry_->logText();
  EXPECT_NE(log.find("unable to verify certificate chain"), std::string::npos)
      << registry_->logTail();
  EXPECT_NE(log.find("invalid token"), std::string::npos) << registry_->logTail();
  EXPECT_TRUE(registry_->blobGets(kRepo).empty());
  expectNoImage();
}

}  // namespace
}  // namespace contd::images
