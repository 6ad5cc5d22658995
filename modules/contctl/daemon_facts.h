#pragma once
// contctl version and contctl info: contd about itself (api/contd/v1/info.proto), for
// people, for --format templates and as JSON. Pure functions returning text.

#include <span>
#include <string>
#include <string_view>

#include "contd/v1/containers.pb.h"

namespace contd::contctl {

// contctl version: "contctl <ours>", then "contd <v>", "containerd <v> (<revision>)" (or
// "containerd: <why it is missing>"), "runtime <name> <v>".
std::string formatVersion(std::string_view contctl_version, const v1::VersionResponse& version);
// The same as one JSON object: {"contctl": ..., then the VersionResponse's fields}.
std::string versionJson(std::string_view contctl_version, const v1::VersionResponse& version);

// contctl info: a "Key:  value" block (versions, counts), then the configuration, one
// "  key: value" line per key.
std::string formatInfo(const v1::InfoResponse& info);

// The fields of `info --format`: .Version, .Containerd, .Runtime, ...
std::span<const std::string_view> infoFields();
std::string infoField(const v1::InfoResponse& info, std::string_view field);

}  // namespace contd::contctl
