#pragma once
// SHA-256 digests in containerd's "sha256:<hex>" form, computed incrementally.
//
// Threading: one owner per Sha256.

#include <memory>
#include <string>
#include <string_view>

namespace contd {

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  // "sha256:<64 hex digits>"; call once.
  std::string digest();

private:
  struct State;
  std::unique_ptr<State> state_;
};

// "sha256:<hex>" of `data`.
std::string sha256Digest(std::string_view data);

// True for "sha256:" followed by 64 lower-case hex digits.
bool isSha256Digest(std::string_view digest);

}  // namespace contd
