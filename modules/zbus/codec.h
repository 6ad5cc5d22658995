#pragma once
// The zbus wire format for the `container` module: the request and response envelopes, the
// status object, and the Go types of zosbase's pkg.ContainerModule, encoded exactly as the
// Go server does (vmihailenco/msgpack v4.0.4 under zbus v1.0.1). The contract and every trap
// is in docs/zbus-wire.md; the golden bytes are in tests/fixtures/zbus/.
//
// Encoding is byte-exact: struct fields as maps in Go declaration order, uint/uint64 always
// `cf`+8 bytes, int64/Duration always `d3`+8 bytes, time.Time as ext -1 in its 4/8/12-byte
// form, nil slices as `c0` and empty ones as `90`.
//
// Decoding is as forgiving as Go's: map keys are matched by name (unknown keys skipped,
// missing keys zero), a struct may also come as an array (positional), any integer width is
// accepted, `c0` is the zero value of a string, slice or struct. Malformed or hostile input
// (truncated, wrong types, lengths beyond the payload, nesting deeper than kMaxDepth) is an
// error, never a crash.
//
// Pure functions, no I/O; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::zbus {

// Values nested deeper than this are refused when decoding.
inline constexpr std::size_t kMaxDepth = 64;

// Go's time.Time as it travels: Unix seconds and nanoseconds (UTC; the zone is not sent).
struct GoTime {
  // Go's zero time (January 1, year 1 UTC): "unset".
  static constexpr std::int64_t kZeroSecs = -62135596800;

  std::int64_t secs = kZeroSecs;
  std::uint32_t nsec = 0;  // < 1e9

  bool isZero() const { return secs == kZeroSecs && nsec == 0; }
  // 0 (contd's "unset") becomes Go's zero time.
  static GoTime fromUnixNanos(std::int64_t unix_nanos);
  bool operator==(const GoTime&) const = default;
};

// A Go slice: nullopt is a nil slice (`c0`), an empty vector is an empty one (`90`).
template <typename T>
using GoSlice = std::optional<std::vector<T>>;

// zosbase pkg.MountInfo.
struct MountInfo {
  std::string source;  // "Source"
  std::string target;  // "Target"
  bool operator==(const MountInfo&) const = default;
};

// zosbase logger.Logs: {"Type", "Data": {"Stdout", "Stderr"}}.
struct LogSink {
  std::string type;
  std::string stdout_url;
  std::string stderr_url;
  bool operator==(const LogSink&) const = default;
};

// zosbase pkg.Stats: {"Type", "Endpoint"}.
struct StatsSink {
  std::string type;
  std::string endpoint;
  bool operator==(const StatsSink&) const = default;
};

// zosbase pkg.Container: a map16 of these 16 fields, in this order.
struct Container {
  std::string name;                 // Name
  std::string root_fs;              // RootFS
  GoSlice<std::string> env;         // Env
  std::string working_dir;          // WorkingDir
  std::string network_namespace;    // Network.Namespace
  GoSlice<MountInfo> mounts;        // Mounts
  std::string entrypoint;           // Entrypoint
  bool interactive = false;         // Interactive
  std::uint64_t cpu = 0;            // CPU
  std::uint64_t memory = 0;         // Memory (bytes)
  GoSlice<LogSink> logs;            // Logs
  GoSlice<StatsSink> stats;         // Stats
  bool elevated = false;            // Elevated
  GoTime created_at;                // CreatedAt
  std::string root_fs_propagation;  // RootFsPropagation
  std::int64_t shutdown_timeout_ns = 0;  // ShutdownTimeout (time.Duration)
  bool operator==(const Container&) const = default;
};

// zbus ObjectID: {"Name", "Version"}.
struct ObjectId {
  std::string name;
  std::string version;
  // "name@version", or "name" when the version is empty.
  std::string toString() const;
  bool operator==(const ObjectId&) const = default;
};

// zbus Request: map(5) ID, Inputs, Object, ReplyTo, Method.
struct Request {
  std::string id;
  std::vector<std::string> inputs;  // each the msgpack of one argument
  ObjectId object;
  std::string reply_to;
  std::string method;
  bool operator==(const Request&) const = default;
};

// zbus Output: the method's result value and its error.
struct Output {
  std::optional<std::string> data;   // msgpack of the value, sent as bin; nullopt: nil
  std::optional<std::string> error;  // Output.Error.Message; nullopt: nil
  bool operator==(const Output&) const = default;
};

// zbus Response: map(3) ID, Output, Error.
struct Response {
  std::string id;
  Output output;
  std::optional<std::string> error;  // protocol error only; nullopt: nil
  bool operator==(const Response&) const = default;
};

// One worker in the status object: {"State", "StartTime", "Action"}.
struct WorkerStatus {
  std::string state;  // "free" or "busy"
  GoTime start_time;  // when the worker last changed state
  std::string action; // "" when free, "[container@0.0.1].Run()" when busy
  bool operator==(const WorkerStatus&) const = default;
};

// zbus Status: {"Objects": [ObjectId], "Workers": [WorkerStatus]}.
struct ServerStatus {
  std::vector<ObjectId> objects;
  std::vector<WorkerStatus> workers;
  bool operator==(const ServerStatus&) const = default;
};

// ---- Encoders: the exact bytes Go's msgpack v4 produces.
std::string encodeString(std::string_view value);
std::string encodeStringSlice(const GoSlice<std::string>& value);
std::string encodeDuration(std::int64_t nanoseconds);
std::string encodeTime(const GoTime& value);
std::string encodeContainer(const Container& value);
std::string encodeStatus(const ServerStatus& value);
std::string encodeRequest(const Request& value);
std::string encodeResponse(const Response& value);

// ---- Decoders. Errors are kInvalidArgument and say what did not fit.
Result<std::string> decodeString(std::string_view bytes);
Result<GoSlice<std::string>> decodeStringSlice(std::string_view bytes);
Result<std::int64_t> decodeDuration(std::string_view bytes);
Result<GoTime> decodeTime(std::string_view bytes);
Result<Container> decodeContainer(std::string_view bytes);
Result<ServerStatus> decodeStatus(std::string_view bytes);
Result<Request> decodeRequest(std::string_view bytes);
Result<Response> decodeResponse(std::string_view bytes);

}  // namespace contd::zbus
