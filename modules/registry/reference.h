#pragma once
// Image references as users type them ("busybox", "127.0.0.1:5000/test/two:1",
// "ghcr.io/org/app@sha256:…"), normalised the way docker and containerd do it:
//   busybox                      -> host docker.io, repository library/busybox, tag latest
//   docker.io/busybox            -> the same; the host answering is registry-1.docker.io
//   localhost:5000/app           -> host localhost:5000 (a first part with '.' or ':' or
//                                   "localhost" is a host), tag latest
//   app:1@sha256:<64 hex>        -> tag 1 and digest; the digest is what is fetched
//
// Errors: kInvalidArgument naming the field (`ref` unless another is given) and what is wrong.

#include <string>
#include <string_view>

#include "modules/common/result.h"

namespace contd::registry {

struct Reference {
  std::string host;        // as named: "docker.io", "127.0.0.1:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // "latest" when neither a tag nor a digest was given
  std::string digest;      // "sha256:<hex>" when pinned, else empty

  // The name the image is stored under in containerd: "docker.io/library/busybox:latest",
  // "host/repo@sha256:…" when there is a digest but no tag.
  std::string name() const;
  // What goes after /manifests/: the digest when pinned, else the tag.
  std::string manifestReference() const;
  // The host HTTP requests go to: registry-1.docker.io for docker.io, else `host`.
  std::string endpointHost() const;
};

// `field` names the request field in errors: "ref 'Bad': repository must be lower case".
Result<Reference> parseReference(std::string_view text, std::string_view field = "ref");

}  // namespace contd::registry
