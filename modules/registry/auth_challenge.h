#pragma once
// The WWW-Authenticate header of a registry's 401 answer (RFC 7235), e.g.
//   Bearer realm="https://auth.example/token",service="registry.example",
//          scope="repository:a/b:pull"          (one line in the header)
//   Basic realm="Registry Realm"
// Several challenges may share one header; parameter values may be quoted (with \-escapes)
// or bare tokens. Scheme and parameter names are compared case-insensitively and are
// returned lower-cased.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace contd::registry {

struct Challenge {
  std::string scheme;                         // "basic", "bearer"
  std::map<std::string, std::string> params;  // "realm" -> "…"
};

// Unparseable parts are skipped; an empty vector means no usable challenge.
std::vector<Challenge> parseChallenges(std::string_view header);

}  // namespace contd::registry
