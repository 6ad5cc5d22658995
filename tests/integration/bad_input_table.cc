#include "tests/integration/bad_input_table.h"

#include <array>
#include <fstream>
#include <limits>
#include <system_error>
#include <tuple>
#include <utility>

namespace contd::testing {
namespace {

namespace fs = std::filesystem;
using grpc::StatusCode;

// The kernel's MAX_ARG_STRLEN, which counts the terminating NUL: a string this long is
// already refused by execve.
constexpr std::size_t kArgStrlen = 32 * 4096;

constexpr std::array<CallInfo, 20> kCalls = {{
    {Call::kRun, "Run", true, true},
    {Call::kInspect, "Inspect", true, true},
    {Call::kDelete, "Delete", true, true},
    {Call::kSignalDelete, "SignalDelete", true, true},
    {Call::kLogs, "Logs", true, true},
    {Call::kList, "List", false, true},
    {Call::kExec, "Exec", true, true},
    {Call::kStats, "Stats", true, false},
    {Call::kExists, "Exists", true, false},
    {Call::kEvents, "Events", false, false},
    {Call::kListImages, "ListImages", false, false},
    {Call::kRemoveImage, "RemoveImage", false, false},
    {Call::kImportImage, "ImportImage", false, false},
    {Call::kPullImage, "PullImage", false, false},
    {Call::kStop, "Stop", true, false},
    {Call::kStart, "Start", true, false},
    {Call::kRestart, "Restart", true, false},
    {Call::kKill, "Kill", true, false},
    {Call::kWait, "Wait", true, false},
    {Call::kUpdate, "Update", true, false},
}};

google::protobuf::Timestamp timestamp(std::int64_t seconds, std::int32_t nanos) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

Row saying(Row row, std::string says) {
  row.says = std::move(says);
  return row;
}

// A Run row: `grpc` spoils the gRPC spec, `zbus` the zbus Container; null: not sent there.
Row runRow(std::string name, std::string field, std::function<void(v1::ContainerSpec&)> grpc,
           std::function<void(zbus::Container&)> zbus, std::string zbus_prefix = "") {
  Row row{.name = "Run " + std::move(name), .call = Call::kRun, .field = std::move(field)};
  row.over_grpc = grpc != nullptr;
  row.over_zbus = zbus != nullptr ? OverZbus::kRefused : OverZbus::kNo;
  row.args.spec = std::move(grpc);
  row.args.container = std::move(zbus);
  row.zbus_prefix = std::move(zbus_prefix);
  return row;
}

// The same field spoiled alike over both transports.
Row netnsRow(const std::string& label, const std::string& value, std::string zbus_prefix = "") {
  return runRow("network_namespace " + label, "network_namespace",
                [value](v1::ContainerSpec& s) { s.set_network_namespace(value); },
                [value](zbus::Container& c) { c.network_namespace = value; },
                std::move(zbus_prefix));
}

Row rootfsRow(const std::string& label, const std::string& value, std::string zbus_prefix = "") {
  return runRow("rootfs " + label, "rootfs", [value](v1::ContainerSpec& s) { s.set_rootfs(value); },
                [value](zbus::Container& c) { c.root_fs = value; }, std::move(zbus_prefix));
}

// A rootfs that lacks the program: over gRPC argv[0] names it, over zbus the entrypoint.
Row noProgramRow(const std::string& label, const std::string& rootfs) {
  return saying(runRow("rootfs without the program: " + label, "argv[0]",
                       [rootfs](v1::ContainerSpec& s) { s.set_rootfs(rootfs); },
                       [rootfs](zbus::Container& c) { c.root_fs = rootfs; }, "entrypoint: "),
                "no executable '/bin/sh'");
}

Row entrypointRow(const std::string& label, const std::string& value,
                  std::string field = "entrypoint", std::string zbus_prefix = "") {
  return runRow(
      "entrypoint " + label, std::move(field),
      [value](v1::ContainerSpec& s) {
        s.clear_argv();
        s.set_entrypoint(value);
      },
      [value](zbus::Container& c) { c.entrypoint = value; }, std::move(zbus_prefix));
}

Row envRow(const std::string& label, std::vector<std::string> env, std::string field) {
  return runRow(
      "env " + label, std::move(field),
      [env](v1::ContainerSpec& s) { s.mutable_env()->Assign(env.begin(), env.end()); },
      [env](zbus::Container& c) { c.env = env; });
}

Row argvRow(const std::string& label, std::vector<std::string> argv, std::string field) {
  return runRow(
      "argv " + label, std::move(field),
      [argv](v1::ContainerSpec& s) { s.mutable_argv()->Assign(argv.begin(), argv.end()); },
      nullptr);
}

Row tagsRow(const std::string& label, std::vector<std::string> tags, std::string field) {
  return runRow(
      "tags " + label, std::move(field),
      [tags](v1::ContainerSpec& s) { s.mutable_tags()->Assign(tags.begin(), tags.end()); },
      nullptr);
}

// A Run whose health check is spoiled by `spoil` (a valid check otherwise); gRPC only: zbus
// has no health checks.
Row healthRow(const std::string& label, std::string field,
              std::function<void(v1::HealthCheck&)> spoil) {
  return runRow("health " + label, std::move(field),
                [spoil](v1::ContainerSpec& s) {
                  v1::HealthCheck* health = s.mutable_health();
                  health->add_argv("/bin/true");
                  spoil(*health);
                },
                nullptr);
}

std::vector<Row> healthRows() {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  constexpr std::uint64_t kDayAndAMs = 24 * 3600 * 1000 + 1;
  return {
      healthRow("argv empty", "health.argv", [](v1::HealthCheck& h) { h.clear_argv(); }),
      healthRow("argv[0] empty", "health.argv", [](v1::HealthCheck& h) { h.set_argv(0, ""); }),
      healthRow("argv[1] with NUL", "health.argv[1]",
                [](v1::HealthCheck& h) { h.add_argv(std::string("a\0b", 3)); }),
      healthRow("argv[1] of MAX_ARG_STRLEN", "health.argv[1]",
                [](v1::HealthCheck& h) { h.add_argv(std::string(kArgStrlen, 'a')); }),
      healthRow("program missing from the rootfs", "health.argv[0]",
                [](v1::HealthCheck& h) { h.set_argv(0, "/bin/no-such-check"); }),
      healthRow("interval 999 ms", "health.interval_ms",
                [](v1::HealthCheck& h) { h.set_interval_ms(999); }),
      healthRow("interval 24 h + 1 ms", "health.interval_ms",
                [](v1::HealthCheck& h) { h.set_interval_ms(kDayAndAMs); }),
      healthRow("interval UINT64_MAX ms", "health.interval_ms",
                [](v1::HealthCheck& h) { h.set_interval_ms(kMax); }),
      healthRow("timeout 99 ms", "health.timeout_ms",
                [](v1::HealthCheck& h) { h.set_timeout_ms(99); }),
      healthRow("timeout UINT64_MAX ms", "health.timeout_ms",
                [](v1::HealthCheck& h) { h.set_timeout_ms(kMax); }),
      healthRow("start period 24 h + 1 ms", "health.start_period_ms",
                [](v1::HealthCheck& h) { h.set_start_period_ms(kDayAndAMs); }),
      healthRow("start period UINT64_MAX ms", "health.start_period_ms",
                [](v1::HealthCheck& h) { h.set_start_period_ms(kMax); }),
  };
}

// Bad values of a namespace or id, by label: outside printable ASCII, outside the rule,
// too long, empty.
std::vector<std::pair<std::string, std::string>> badNames() {
  return {{"newline", "a\nb"},         {"non-ASCII", "h1-\xc3\xa9"},
          {"control byte", "x\x01y"},  {"DEL", "a\x7f"},
          {"NUL", std::string("a\0b", 3)}, {"path", "../etc"},
          {"65 characters", std::string(65, 'n')}, {"3 MB", std::string(3 << 20, 'n')},
          {"empty", ""}};
}

std::vector<Row> namespaceRows() {
  std::vector<Row> rows;
  for (const auto& [label, value] : badNames()) {
    for (const auto& call : kCalls) {
      Row row{.name = std::string(call.name) + " namespace " + label, .call = call.call,
              .args = {.ns = value}, .field = "namespace"};
      if (value.empty() && (call.call == Call::kList || call.call == Call::kEvents)) {
        // Empty means "every namespace" over gRPC; zbus's List has zosbase's words.
        if (call.call == Call::kEvents) continue;
        row.over_grpc = false;
        row.zbus_prefix = "namespace is required";
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::vector<Row> idRows() {
  std::vector<Row> rows;
  for (const auto& [label, value] : badNames()) {
    for (const auto& call : kCalls) {
      if (!call.has_id) continue;
      rows.push_back({.name = std::string(call.name) + " id " + label, .call = call.call,
                      .args = {.id = value},
                      .field = call.call == Call::kRun ? "name" : "id"});
    }
  }
  return rows;
}

// Requests gRPC refuses before contd reads them (over its 4 MiB receive limit): a short
// RESOURCE_EXHAUSTED that cannot name a field; over zbus, dropped undecoded.
std::vector<Row> oversizedRows() {
  const std::string big(10 << 20, 'x');
  std::vector<Row> rows;
  for (Call call : {Call::kRun, Call::kInspect, Call::kDelete, Call::kExec}) {
    rows.push_back({.name = std::string(callInfo(call).name) + " id 10 MB", .call = call,
                    .args = {.id = big}, .code = StatusCode::RESOURCE_EXHAUSTED,
                    .over_zbus = OverZbus::kDropped});
  }
  rows.push_back({.name = "List namespace 10 MB", .call = Call::kList, .args = {.ns = big},
                  .code = StatusCode::RESOURCE_EXHAUSTED, .over_zbus = OverZbus::kDropped});
  return rows;
}

std::vector<Row> execAndLogsRows() {
  constexpr std::uint64_t kDay = 24 * 3600 * 1000;
  std::vector<Row> rows;
  auto exec = [&](std::string name, Args args, std::string field) {
    rows.push_back({.name = "Exec " + std::move(name), .call = Call::kExec,
                    .args = std::move(args), .field = std::move(field)});
  };
  exec("timeout 24 h + 1 ms", {.timeout_ms = kDay + 1}, "timeout");
  exec("timeout UINT64_MAX ms", {.timeout_ms = std::numeric_limits<std::uint64_t>::max()},
       "timeout");
  exec("argv with NUL", {.argv = {"/bin/echo", std::string("a\0b", 3)}}, "argv[1]");
  exec("argv[0] with NUL", {.argv = {std::string("/bin/true\0x", 11)}}, "argv[0]");
  exec("argv of MAX_ARG_STRLEN", {.argv = {"/bin/echo", std::string(kArgStrlen, 'a')}},
       "argv[1]");
  exec("argv empty", {.argv = {}}, "argv");
  exec("argv[0] empty", {.argv = {""}}, "argv");
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  const std::vector<std::pair<std::string, google::protobuf::Timestamp>> times = {
      {"INT64_MAX s", timestamp(kMax, 0)}, {"INT64_MIN s", timestamp(-kMax - 1, 0)},
      {"nanos -1", timestamp(0, -1)}, {"nanos 1e9", timestamp(0, 1'000'000'000)}};
  for (const auto& [label, since] : times) {
    rows.push_back({.name = "Logs since " + label, .call = Call::kLogs,
                    .args = {.since = since}, .field = "since", .over_zbus = OverZbus::kNo});
  }
  rows.push_back({.name = "Logs previous with follow", .call = Call::kLogs,
                  .args = {.previous_and_follow = true}, .field = "follow",
                  .over_zbus = OverZbus::kNo});
  rows.push_back({.name = "List page_token", .call = Call::kList, .args = {.page_token = "x"},
                  .field = "page_token", .over_zbus = OverZbus::kNo});
  for (int signal : {-1, 65, 1 << 20}) {
    rows.push_back({.name = "Kill signal " + std::to_string(signal), .call = Call::kKill,
                    .args = {.signal = signal}, .field = "signal", .over_zbus = OverZbus::kNo});
  }
  for (Call call : {Call::kStop, Call::kRestart}) {
    rows.push_back({.name = std::string(callInfo(call).name) + " timeout 1 h + 1 ms",
                    .call = call, .args = {.timeout_ms = 3600 * 1000 + 1},
                    .field = "timeout_ms", .over_zbus = OverZbus::kNo});
  }
  return rows;
}

// Update's limits, each checked before the container is looked up ("ghost" is unknown).
std::vector<Row> updateRows() {
  std::vector<Row> rows;
  using Limits = v1::UpdateRequest;
  const std::vector<std::tuple<std::string, std::function<void(Limits&)>, std::string>> limits = {
      {"none", [](Limits& l) { l.clear_pids_limit(); }, "update"},
      {"memory_bytes 1", [](Limits& l) { l.set_memory_bytes(1); }, "memory_bytes"},
      {"memory_bytes 2^63", [](Limits& l) { l.set_memory_bytes(1ULL << 63); }, "memory_bytes"},
      {"cpu 1025", [](Limits& l) { l.set_cpu(1025); }, "cpu"},
      {"pids_limit -2", [](Limits& l) { l.set_pids_limit(-2); }, "pids_limit"},
  };
  for (const auto& [label, spoil, field] : limits) {
    rows.push_back({.name = "Update " + label, .call = Call::kUpdate, .args = {.limits = spoil},
                    .field = field, .over_zbus = OverZbus::kNo});
  }
  return rows;
}

std::vector<Row> sizeRows() {
  const std::string longest(kArgStrlen, 'a');
  const std::string big(100 << 10, 'b');
  // 20 arguments of 120 KiB: each within MAX_ARG_STRLEN, 2.4 MB together (ARG_MAX: 2 MiB).
  std::vector<std::string> over_arg_max(20, std::string(120 << 10, 'c'));
  over_arg_max.insert(over_arg_max.begin(), "/bin/echo");
  std::string words;
  for (const auto& word : over_arg_max) words += (words.empty() ? "" : " ") + word;
  return {
      argvRow("string of MAX_ARG_STRLEN", {"/bin/echo", longest}, "argv[1]"),
      argvRow("string of 200 KiB", {"/bin/echo", std::string(200 << 10, 'a')}, "argv[1]"),
      argvRow("with NUL", {"/bin/echo", std::string("a\0b", 3)}, "argv[1]"),
      argvRow("over ARG_MAX in all", over_arg_max, "spec"),
      entrypointRow("word of MAX_ARG_STRLEN", "/bin/echo " + longest),
      entrypointRow("over ARG_MAX in all", words, "spec"),
      // zosbase's words over zbus, which quote the entrypoint back.
      entrypointRow("3 MB with an unterminated quote", "/bin/echo '" + std::string(3 << 20, 'q'),
                    "entrypoint", "invalid entrypoint definition '/bin/echo '"),
      entrypointRow("with NUL", std::string("/bin/echo a\0b", 13)),
      envRow("string of MAX_ARG_STRLEN", {"A=1", "B=" + longest.substr(2)}, "env[1]"),
      envRow("with NUL", {std::string("A=\0", 3)}, "env[0]"),
      envRow("3 x 100 KiB", {"A=" + big, "B=" + big, "C=" + big}, "spec"),
      tagsRow("65", std::vector<std::string>(65, "t"), "tags"),
      tagsRow("10000 of 250 bytes", std::vector<std::string>(10000, std::string(250, 't')), "tags"),
      tagsRow("one of 257 bytes", {std::string(257, 't')}, "tags[0]"),
      tagsRow("one empty", {""}, "tags[0]"),
  };
}

std::vector<Row> netnsRows(const fs::path& folder, pid_t contd_pid) {
  const std::string contd_netns = "/proc/" + std::to_string(contd_pid) + "/ns/net";
  std::vector<Row> rows;
  for (const auto& [label, path] : std::vector<std::pair<std::string, std::string>>{
           {"/proc/self/ns/net", "/proc/self/ns/net"},
           {"/proc/<contd's pid>/ns/net", contd_netns},
           {"/proc/thread-self/ns/net", "/proc/thread-self/ns/net"},
           {"/proc/self/ns/uts", "/proc/self/ns/uts"},
           {"symlink to /proc/self/ns/net", folder / "proc-netns-link"}}) {
    rows.push_back(saying(netnsRow(label, path), "namespace under /proc"));
  }
  // Where pid 1 is out of reach (a sandbox), stat() already fails: "Permission denied".
  rows.push_back(netnsRow("/proc/1/ns/net", "/proc/1/ns/net"));
  for (const auto& [label, path] : std::vector<std::pair<std::string, std::string>>{
           {"/dev/null", "/dev/null"}, {"a plain file", folder / "plain-file"},
           {"a directory", folder}}) {
    rows.push_back(saying(netnsRow(label, path), "is not a network namespace"));
  }
  // The host's on a host (pid 1 shares contd's), contd's own in a sandbox.
  rows.push_back(netnsRow("contd's own, bind-mounted", folder / kOwnNetnsFile));
  rows.push_back(netnsRow("missing name", "no-such-netns"));
  rows.push_back(netnsRow("relative path", "a/b"));
  rows.push_back(netnsRow("newline", "a\nb"));
  rows.push_back(netnsRow("NUL", std::string("/proc\0x", 7)));
  rows.push_back(netnsRow("empty", "", "cannot create container without network namespace"));
  return rows;
}

std::vector<Row> rootfsRows(const fs::path& folder) {
  std::vector<Row> rows;
  for (const char* kernel : {"/proc", "/sys", "/dev", "/dev/shm", "/sys/fs/cgroup"}) {
    rows.push_back(saying(rootfsRow(kernel, kernel), "is in the host's"));
  }
  rows.push_back(saying(rootfsRow("symlink to /proc", folder / "proc-link"), "is in the host's"));
  rows.push_back(rootfsRow("/", "/"));
  rows.push_back(rootfsRow("/proc/1/root", "/proc/1/root"));
  rows.push_back(rootfsRow("relative", "rootfs"));
  rows.push_back(rootfsRow("missing", "/no/such/rootfs"));
  rows.push_back(rootfsRow("NUL", std::string("/\0tmp", 5)));
  rows.push_back(rootfsRow("empty", "", "RootFS of the container creation data cannot be empty"));
  rows.push_back(noProgramRow("empty", folder / "empty-root"));
  rows.push_back(noProgramRow("/bin/sh an absolute symlink", folder / "abs-link-root"));
  rows.push_back(noProgramRow("/bin/sh a symlink through ..", folder / "rel-link-root"));
  rows.push_back(runRow("argv[0] missing", "argv[0]",
                        [](v1::ContainerSpec& s) { s.set_argv(0, "/bin/no-such-program"); },
                        nullptr));
  rows.push_back(entrypointRow("missing program", "/bin/no-such-program --flag"));
  return rows;
}

}  // namespace

const CallInfo& callInfo(Call call) {
  for (const auto& c : kCalls) {
    if (c.call == call) return c;
  }
  return kCalls[0];
}

Status makeBadPaths(const fs::path& folder) {
  std::error_code ec;
  for (const char* root : {"empty-root", "abs-link-root/bin", "rel-link-root/bin"}) {
    fs::create_directories(folder / root, ec);
  }
  // /bin/sh of the host, not of the rootfs: the check must resolve them inside it.
  fs::create_symlink("/bin/sh", folder / "abs-link-root/bin/sh", ec);
  if (!ec) fs::create_symlink("../../../../../../../bin/sh", folder / "rel-link-root/bin/sh", ec);
  if (!ec) fs::create_symlink("/proc", folder / "proc-link", ec);
  if (!ec) fs::create_symlink("/proc/self/ns/net", folder / "proc-netns-link", ec);
  if (ec) {
    return internalError("make the bad paths in '" + folder.string() + "': " + ec.message());
  }
  std::ofstream(folder / "plain-file") << "not a namespace\n";
  std::ofstream(folder / kOwnNetnsFile).flush();
  return okStatus();
}

std::vector<Row> badInputTable(const fs::path& folder, pid_t contd_pid) {
  std::vector<Row> rows;
  auto append = [&rows](std::vector<Row> part) {
    rows.insert(rows.end(), std::make_move_iterator(part.begin()),
                std::make_move_iterator(part.end()));
  };
  append(namespaceRows());
  append(idRows());
  append(netnsRows(folder, contd_pid));
  append(rootfsRows(folder));
  append(sizeRows());
  append(execAndLogsRows());
  append(updateRows());
  append(healthRows());
  append(oversizedRows());
  return rows;
}

}  // namespace contd::testing
