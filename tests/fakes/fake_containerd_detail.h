#pragma once
// Helpers shared by the files of FakeContainerd (fake_containerd*.cc); not for tests.

#include <string>
#include <string_view>

#include "modules/common/names.h"
#include "modules/common/result.h"

namespace contd::testing::fake_detail {

// Like GrpcClient, which refuses before sending a namespace gRPC could not put in metadata.
inline Status checkNamespace(std::string_view ns) { return validateName("namespace", ns); }

inline Error missing(std::string_view what, std::string_view ns, std::string_view id) {
  return notFound(std::string(what) + " \"" + std::string(id) + "\" in namespace \"" +
                  std::string(ns) + "\": not found");
}

}  // namespace contd::testing::fake_detail
