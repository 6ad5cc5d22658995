#pragma once
// The one error convention of contd (docs/decisions/errors.md): functions that can fail
// for reasons the environment or the caller controls return Result<T> (or Status); no
// exception crosses a module boundary. Accessor names follow std::expected so that a move
// to C++23 is an alias.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace contd {

// Mirrors containerd's errdefs and the gRPC codes they map to, so converting at either
// boundary is a one-liner.
enum class Code {
  kUnknown,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnavailable,
  kDeadlineExceeded,
  kInternal,
  kUnauthenticated,  // a registry refused the (missing) credentials
  kCancelled,        // the caller gave up waiting (Wait)
};

std::string_view codeName(Code code);

struct Error {
  Code code = Code::kUnknown;
  std::string message;  // "create task 'web': containerd is down": no trailing period

  // Adds what the caller was doing in front of the message, keeping the code.
  [[nodiscard]] Error wrap(std::string_view context) const;
};

// Shorthands for building errors: `return notFound("container 'x'");`
Error makeError(Code code, std::string message);
Error invalidArgument(std::string message);
Error notFound(std::string message);
Error alreadyExists(std::string message);
Error failedPrecondition(std::string message);
Error unavailable(std::string message);
Error internalError(std::string message);
// An error from a failed syscall: "<what>: <strerror(err)>", code kInternal
// (or kNotFound for ENOENT).
Error sysError(std::string_view what, int err);

struct Ok {};

template <typename T>
class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool has_value() const { return v_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

private:
  std::variant<T, Error> v_;
};

using Status = Result<Ok>;
inline Status okStatus() { return Ok{}; }

}  // namespace contd

// Returns the error of a Status/Result expression from the enclosing function.
#define CONTD_RETURN_IF_ERROR(expr)      \
  do {                                   \
    if (auto contd_s_ = (expr); !contd_s_) \
      return contd_s_.error();           \
  } while (0)
