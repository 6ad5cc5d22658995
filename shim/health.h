#pragma once
// The writer's health file, <log_root>/<ns>/.<id>.log.health (a dot name: never a
// container's log), read by contd's describe(). One JSON object on one line:
//
//   {"writer_restarts":1,"dropped_bytes":0,"dropped_records":0,"policy":"block"}
//
// writer_restarts: how often the holder had to start a new writer (each restart may have
// lost what the dead writer had read but not written, docs/logs.md); dropped_*: records
// dropped by the `drop` policy, in bytes of records. Rewritten atomically (a temp file, then
// rename) at most once a second when something changed, at writer start and at exit.
//
// std + POSIX only. Threading: pure functions and one-shot file writes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace contd::shim {

struct Health {
  std::uint64_t writer_restarts = 0;
  std::uint64_t dropped_bytes = 0;
  std::uint64_t dropped_records = 0;
  std::string_view policy = "block";

  bool operator==(const Health&) const = default;
};

// The line above, ending in '\n'.
std::string formatHealth(const Health& health);

// The unsigned number after "\"<key>\":" in `json`, or nullopt.
std::optional<std::uint64_t> healthNumber(std::string_view json, std::string_view key);

// Writes `content` to `<path>.tmp` (mode 0640) and renames it to `path`. False on failure.
bool writeHealthFile(const std::string& path, std::string_view content);

}  // namespace contd::shim
