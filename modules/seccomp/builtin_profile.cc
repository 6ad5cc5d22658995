#include "builtin_profile_text.h"
#include "modules/seccomp/profile.h"

namespace contd::seccomp {

std::string_view builtinProfileText() { return detail::kBuiltinProfileText; }

Result<Profile> builtinProfile() {
  auto profile = parseProfile(builtinProfileText());
  if (!profile) {
    return profile.error().wrap("built-in seccomp profile");
  }
  return profile;
}

}  // namespace contd::seccomp
