#pragma once
// The table of tests/integration/bad_input_test.cc: every bad value of issue 15 (defects 1,
// 5 and 6) as a row {call, what is bad, expected code, field}. Each row names the good
// request it spoils; the test sends it over gRPC and, for the calls zbus has, over zbus.
//
// Pure data apart from makeBadPaths(); any thread.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/support/status_code_enum.h>

#include "contd/v1/containers.pb.h"
#include "modules/common/result.h"
#include "modules/zbus/codec.h"

namespace contd::testing {

enum class Call {
  kRun, kInspect, kDelete, kSignalDelete, kLogs, kList, kExec, kStats, kExists, kEvents,
  kListImages, kRemoveImage, kImportImage, kPullImage, kStop, kStart, kRestart, kKill, kWait,
  kUpdate
};

struct CallInfo {
  Call call;
  const char* name;  // the gRPC method, and the zbus method when on_zbus
  bool has_id;       // takes a container id (Run: the spec's name)
  bool on_zbus;      // zosbase's pkg.ContainerModule has it
};

const CallInfo& callInfo(Call call);

// What a row sends; what it leaves unset is good.
struct Args {
  std::optional<std::string> ns;                     // the test's namespace when unset
  std::string id = "ghost";                          // Run: the spec's name
  std::vector<std::string> argv = {"/bin/true"};     // Exec
  std::uint64_t timeout_ms = 1000;                   // Exec (over zbus in ns, saturated), Stop
  int signal = 15;                                   // Kill
  std::optional<google::protobuf::Timestamp> since;  // Logs, gRPC only
  bool previous_and_follow = false;                  // Logs, gRPC only: both flags set
  std::string page_token;                            // List, gRPC only
  std::function<void(v1::ContainerSpec&)> spec;      // Run over gRPC: spoils a good spec
  std::function<void(zbus::Container&)> container;   // Run over zbus: spoils a good one
  std::function<void(v1::UpdateRequest&)> limits;    // Update: spoils a good one
};

enum class OverZbus {
  kNo,       // not sent over zbus
  kRefused,  // answered with an Output.Error starting like the gRPC message (or zbus_prefix)
  kDropped,  // over 4 MiB: dropped undecoded, no reply, the next request is served
};

struct Row {
  std::string name;  // printed when the row fails
  Call call;
  Args args;
  std::string field;  // the message starts with "<field>: "; empty: gRPC's own refusal
  grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT;
  bool over_grpc = true;
  OverZbus over_zbus = OverZbus::kRefused;  // for the calls zbus has
  std::string zbus_prefix;  // zbus's message starts with this, when not "<field>: "
  std::string says;         // both messages also hold this, when set
};

// Files the rows name, in `folder`: rootfs folders without the program to run, symlinks to
// /proc and to /proc/1/ns/net, a plain file. Errors: kInternal naming the file.
Status makeBadPaths(const std::filesystem::path& folder);

// A file in makeBadPaths's folder that the test bind-mounts contd's network namespace on.
inline constexpr char kOwnNetnsFile[] = "own-netns";

// Every row. `folder` is makeBadPaths's, with kOwnNetnsFile mounted; `contd_pid` is the
// daemon's.
std::vector<Row> badInputTable(const std::filesystem::path& folder, pid_t contd_pid);

}  // namespace contd::testing
