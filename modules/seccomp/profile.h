#pragma once
// Seccomp profiles: the OCI runtime spec's linux.seccomp object, which runc turns into a
// BPF filter, read from a JSON file and checked before any container uses it.
//
// The file format is linux.seccomp (defaultAction, defaultErrnoRet, architectures, flags,
// syscalls[] of {names, action, errnoRet, args}) with three additions that never reach
// runc:
//   "comment": "..."                 on the profile or a rule, for people;
//   "includes": {"caps": [CAP_...]}  on a rule: only for containers holding all of them;
//   "excludes": {"caps": [CAP_...]}  on a rule: only for containers holding none of them.
// (The same idea as Docker's profile format, reduced to capabilities.)
//
// Checks: the structure and types (errors name the JSON pointer: "/syscalls/3/action:
// unknown action 'SCMP_ACT_FOO'"), action, architecture and comparison-operator names, and
// every syscall name against libseccomp's table for the native architecture
// (seccomp_syscall_resolve_name). A name libseccomp does not know at all is not an error:
// it is reported in `unknown_names` and left out, so runc is never given it. A name that
// libseccomp knows for another architecture only (e.g. "_llseek" on x86_64) is kept: runc
// uses it for the secondary architectures the profile lists.
//
// Pure functions apart from reading the file; no logging (the caller logs unknown names).
// Any thread.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/common/result.h"

namespace contd::seccomp {

struct Profile {
  // The profile as read, with unknown names (and rules left without names) removed. Still
  // holds contd's additions: give a container forCapabilities(json, its caps).
  nlohmann::json json;
  std::vector<std::string> unknown_names;  // in file order, each once
  std::size_t syscall_names = 0;           // names kept, over all rules
};

// Parses and checks profile JSON text. Errors: kInvalidArgument, naming the JSON pointer.
Result<Profile> parseProfile(std::string_view text);
// Reads `path` and parses it. Errors: kInvalidArgument "seccomp profile '<path>': ..."
// for an unreadable file (with errno text) or a bad profile.
Result<Profile> loadProfile(const std::filesystem::path& path);

// The profile compiled into contd: etc/seccomp.json of the source tree, the same file the
// package installs as /etc/contd/seccomp.json. Errors as parseProfile's (a build that
// embeds a broken file is caught by the unit tests).
Result<Profile> builtinProfile();
std::string_view builtinProfileText();

// The linux.seccomp object for a container whose bounding set is `capabilities`: rules
// whose "includes" caps it does not all hold, or whose "excludes" caps it holds any of, are
// dropped; the comment/includes/excludes keys are removed everywhere.
nlohmann::json forCapabilities(const nlohmann::json& profile,
                               const std::vector<std::string>& capabilities);

// The native architecture as libseccomp names it ("x86_64", "aarch64", ...).
std::string nativeArchitecture();

}  // namespace contd::seccomp
