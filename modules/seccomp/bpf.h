#pragma once
// A container's seccomp filter compiled once, by contd, instead of by the runtime for every
// container. crun loads a ready filter from the spec annotation `run.oci.seccomp_bpf_data`
// (base64 of the BPF program seccomp(SECCOMP_SET_MODE_FILTER) takes) instead of compiling
// linux.seccomp itself; docs/security.md#seccomp says when contd gives it one.
//
// The program is built with libseccomp from the OCI linux.seccomp object the container gets
// (forCapabilities(profile, caps)) the way runc and crun build theirs: the default action,
// the listed architectures, one rule per syscall name (several when conditions repeat an
// argument index, which one libseccomp rule cannot hold), rules whose action is the default
// left out, names libseccomp does not know skipped.
//
// Thread-safety: BpfCache may be used from any thread.

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "modules/common/result.h"

namespace contd::seccomp {

inline constexpr char kBpfAnnotation[] = "run.oci.seccomp_bpf_data";

// The BPF program of `linux_seccomp` (raw, not base64). Errors: kInvalidArgument naming
// what libseccomp refused.
Result<std::string> compileBpf(const nlohmann::json& linux_seccomp);

// compileBpf's result, base64-encoded, kept per distinct linux.seccomp object (containers
// of one capability set share it). At most `capacity` entries; the oldest goes first.
class BpfCache {
public:
  explicit BpfCache(std::size_t capacity = 16) : capacity_(capacity) {}
  Result<std::string> base64For(const nlohmann::json& linux_seccomp);

private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::map<std::string, std::pair<std::uint64_t, std::string>> entries_;  // text: (age, bpf)
  std::uint64_t clock_ = 0;
};

std::string base64(const std::string& bytes);

}  // namespace contd::seccomp
