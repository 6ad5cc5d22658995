#include "modules/common/result.h"

#include <cerrno>
#include <cstring>

namespace contd {

std::string_view codeName(Code code) {
  switch (code) {
    case Code::kUnknown: return "unknown";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kAlreadyExists: return "already exists";
    case Code::kFailedPrecondition: return "failed precondition";
    case Code::kUnavailable: return "unavailable";
    case Code::kDeadlineExceeded: return "deadline exceeded";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kCancelled: return "cancelled";
    case Code::kInternal: return "internal";
  }
  return "unknown";
}

Error Error::wrap(std::string_view context) const {
  return Error{code, std::string(context) + ": " + message};
}

Error makeError(Code code, std::string message) { return Error{code, std::move(message)}; }
Error invalidArgument(std::string message) { return makeError(Code::kInvalidArgument, std::move(message)); }
Error notFound(std::string message) { return makeError(Code::kNotFound, std::move(message)); }
Error alreadyExists(std::string message) { return makeError(Code::kAlreadyExists, std::move(message)); }
Error failedPrecondition(std::string message) { return makeError(Code::kFailedPrecondition, std::move(message)); }
Error unavailable(std::string message) { return makeError(Code::kUnavailable, std::move(message)); }
Error internalError(std::string message) { return makeError(Code::kInternal, std::move(message)); }

Error sysError(std::string_view what, int err) {
  return makeError(err == ENOENT ? Code::kNotFound : Code::kInternal,
                   std::string(what) + ": " + std::strerror(err));
}

}  // namespace contd
