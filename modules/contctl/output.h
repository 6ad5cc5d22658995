#pragma once
// contctl's output: aligned tables and key: value blocks for people, JSON for scripts.
// Pure functions returning text (newline-terminated), so they can be tested.
//
// JSON is protobuf's canonical JSON mapping of the API's response message, with the
// .proto field names (snake_case), zero values printed, enums by name and times in
// RFC 3339, except that 64-bit integers are numbers, not strings (docs/contctl.md):
// scripts see the API (api/contd/v1/containers.proto).

#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "contd/v1/containers.pb.h"

namespace contd::contctl {

// Rows of cells; the first row is the header. Columns are padded to their widest cell
// and separated by three spaces; the last column is not padded.
std::string formatTable(const std::vector<std::vector<std::string>>& rows);

// NAMESPACE column.
std::string formatNamespaces(const v1::ListNamespacesResponse& response);
// One "Key:  value" line per field; lists (env, mounts, tags, argv) one item per line,
// aligned under the first.
std::string formatInspect(const v1::ContainerInfo& info);
std::string formatStats(const v1::StatsResponse& stats);
// The limits lines of formatInspect alone (CPU, Memory, Pids limit): what update prints.
std::string formatLimits(const v1::ContainerInfo& info);
// One line per event: "TIME KIND NS/ID detail".
std::string formatEvent(const v1::Event& event);

// `one_line`: compact, for streams of JSON lines (contctl events --json).
std::string toJson(const google::protobuf::Message& message, bool one_line = false);

}  // namespace contd::contctl
