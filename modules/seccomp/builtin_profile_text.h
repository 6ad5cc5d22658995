#pragma once
// The text of etc/seccomp.json, compiled in by the build (embed_profile.cmake). Private to
// contd_seccomp: use builtinProfile() in profile.h.

namespace contd::seccomp::detail {
extern const char kBuiltinProfileText[];
}  // namespace contd::seccomp::detail
