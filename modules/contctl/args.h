#pragma once
// contctl's command line, parsed into an Invocation without touching the process (no
// getenv, no exit), so it can be unit tested. Pure functions, callable from any thread.
//
// Grammar: contctl [GLOBAL...] COMMAND [ARGS and OPTIONS...] [-- CMD...]
// Options may come before or after the positional arguments, as "--opt VALUE" or
// "--opt=VALUE"; global options (--socket, --json) are accepted anywhere before "--".
// Every option is declared once in a table (option_table.cc), which also produces usage().

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "contd/v1/containers.pb.h"
#include "modules/common/result.h"

namespace contd::contctl {

inline constexpr char kDefaultSocket[] = "/run/contd/contd.sock";

enum class Command {
  kHelp, kNamespaces, kList, kInspect, kRun, kRemove, kEvents, kExec, kStats, kLogs,
  kImport, kImages, kRemoveImage, kPull, kStop, kStart, kRestart, kKill, kWait, kUpdate,
  kHealthcheck, kVersion, kDaemonVersion, kInfo
};

struct Invocation {
  std::string socket = kDefaultSocket;
  bool json = false;
  Command command = Command::kHelp;
  std::string ns;    // ls/events -n NS (empty: all), inspect/run/rm/healthcheck run NS
  std::string name;  // inspect/run/rm/healthcheck run NAME
  v1::ContainerSpec spec;  // run; spec.name is `name`; exec: argv
  // update --cpu/--memory/--pids: only those given are set (run's go to spec as well).
  v1::UpdateRequest limits;
  std::uint64_t timeout_ms = 0;       // exec --timeout (0: no limit)
  bool interactive = false;           // exec -i: forward stdin
  bool tty = false;                   // exec -t: a terminal
  bool follow = false;                // logs -f
  std::uint32_t tail = 0;             // logs --tail N
  bool tail_given = false;            // logs --tail given (--tail 0: no old lines)
  std::int64_t since = 0;             // logs --since: unix nanos (0: all)
  std::int64_t until = 0;             // logs --until: unix nanos (0: no end)
  bool timestamps = false;            // logs -t: each line with its time
  bool previous = false;              // logs --previous: the deleted container's kept log
  std::string path;                   // import PATH (on the daemon's host)
  std::string image_name;             // import --name NAME
  std::string ref;                    // pull NS REF
  std::string username;               // pull --creds USER[:PASSWORD]
  std::string password;
  bool password_stdin = false;        // pull --password-stdin: read by main, not here
  bool plain_http = false;            // pull --plain-http
  std::uint64_t stop_timeout_ms = 0;  // stop/restart -t SECONDS (0: the container's own)
  int signal = 15;                    // kill -s SIG (SIGTERM)
  bool detach = false;                // run -d: with --rm, return once it started
  bool all = false;                   // ls/ps -a: stopped and failed containers too
  bool quiet = false;                 // ls/ps -q: names only
  bool no_trunc = false;              // ls/ps --no-trunc
  std::string format;                 // ls/ps/info --format: "json" or a template
  std::vector<std::string> filters;   // ls/ps --filter KEY=VALUE, as given
  std::string help_topic;             // help CMD, CMD --help: the command's name
  bool debug = false;                 // --debug: errors with their raw detail too
};

// `args` are the arguments after the program name; `env_socket` is $CONTD_SOCKET (used
// unless --socket is given). Errors are usage errors (kInvalidArgument) naming the option
// or argument: "--mount 'a': expected SRC:DST[:ro]", "run: --rootfs DIR is required".
Result<Invocation> parseArgs(std::span<const std::string_view> args,
                             std::optional<std::string_view> env_socket);

// The help text, generated from the tables (help.cc): every command and, per command, the
// options it takes; with `topic` (a command's name, known) that command's alone.
std::string usage(std::string_view topic = "");

}  // namespace contd::contctl
