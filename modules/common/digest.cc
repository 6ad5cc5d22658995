#include "modules/common/digest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>


namespace contd {
namespace {

// OpenSSL's digest calls fail only on allocation failure or a broken library: not a state
// contd can recover from.
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "contd: %s failed\n", what);
    std::abort();
  }
}

}  // namespace

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  check(state_->ctx != nullptr && EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) == 1,
              "EVP_DigestInit_ex(sha256) failed");
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->ctx); }

void Sha256::update(std::string_view data) {
  check(EVP_DigestUpdate(state_->ctx, data.data(), data.size()) == 1,
              "EVP_DigestUpdate failed");
}

std::string Sha256::digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(state_->ctx, md, &len) == 1, "EVP_DigestFinal_ex failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    text += kHex[md[i] >> 4];
    text += kHex[md[i] & 0xf];
  }
  return text;
}

bool isSha256Digest(std::string_view digest) {
  if (digest.size() != 71 || digest.substr(0, 7) != "sha256:") {
    return false;
  }
  for (const char c : digest.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string sha256Digest(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.digest();
}

}  // namespace contd
