#include "modules/contctl/option_table.h"

#include <array>

namespace contd::contctl {
namespace {

const std::array<CommandDef, 24> kCommands = {{
    {"ns", Command::kNamespaces, kNs, "", 0, "list the namespaces holding contd containers"},
    {"ls", Command::kList, kLs, "[-n NS] [-a] [-q] [--filter K=V]... [--format T]", 0,
     "list running containers (-a: all), of every namespace or of NS"},
    {"ps", Command::kList, kLs, "[-n NS] [-a] [-q] [--filter K=V]... [--format T]", 0,
     "the same as ls"},
    {"inspect", Command::kInspect, kInspect, "NS NAME", 2, "show a container"},
    {"run", Command::kRun, kRun, "NS NAME OPTIONS -- CMD...", 2, "run a container"},
    {"rm", Command::kRemove, kRm, "NS NAME", 2, "stop (SIGTERM, then SIGKILL) and delete"},
    {"stop", Command::kStop, kStop, "NS NAME [-t SECONDS]", 2,
     "SIGTERM, then SIGKILL; the container stays, stopped, until start"},
    {"start", Command::kStart, kStart, "NS NAME", 2, "run a stopped or failed container again"},
    {"restart", Command::kRestart, kRestart, "NS NAME [-t SECONDS]", 2, "stop, then start"},
    {"kill", Command::kKill, kKill, "NS NAME [-s SIGNAL]", 2,
     "send a signal (default TERM) to the container's process"},
    {"wait", Command::kWait, kWait, "NS NAME", 2,
     "wait until the container's process exits; print its exit code"},
    {"update", Command::kUpdate, kUpdate, "NS NAME [--memory BYTES] [--cpu N] [--pids N]", 2,
     "change a container's limits, at once when it runs; print them"},
    {"events", Command::kEvents, kEvents, "[-n NS]", 0,
     "follow container events (started, exited, restarted, ...) until interrupted"},
    {"exec", Command::kExec, kExec, "NS NAME [-i] [-t] [--timeout MS] [--] CMD...", 2,
     "run CMD in the container, output live; exits with its exit code (124 when timed out)"},
    {"stats", Command::kStats, kStats, "NS NAME", 2, "CPU, memory and process figures"},
    {"logs", Command::kLogs, kLogs, "NS NAME [-f] [-t] [-p] [--tail N] [--since T] [--until T]", 2,
     "the container's output: stdout lines to stdout, stderr lines to stderr"},
    {"import", Command::kImport, kImport, "NS PATH [--name NAME]", 2,
     "import an OCI layout or docker save tarball: an absolute PATH is read on the daemon's "
     "host, a relative one or - (stdin) is sent by contctl"},
    {"pull", Command::kPull, kPull, "NS REF [--creds U[:P]] [--password-stdin] [--plain-http]", 2,
     "pull an image from its registry into NS, showing progress"},
    {"images", Command::kImages, kImages, "[-n NS] [-q] [--no-trunc]", 0,
     "list the images of every namespace contd has containers in, or of NS"},
    {"rmi", Command::kRemoveImage, kRmi, "NS NAME", 2,
     "remove an image (refused while a container uses it)"},
    {"healthcheck", Command::kHealthcheck, kHealthcheck, "run NS NAME", 3,
     "run the container's health check now: prints healthy (exit 0) or unhealthy (exit 1)"},
    {"version", Command::kDaemonVersion, kVersion, "", 0,
     "contctl's version, then contd's, containerd's and the OCI runtime's"},
    {"info", Command::kInfo, kInfo, "[--format T]", 0,
     "contd's versions, configuration in effect and counts of containers and images"},
    {"help", Command::kHelp, 0, "[COMMAND]", 0,
     "show this help, or a command's synopsis and options"},
}};

}  // namespace

std::span<const CommandDef> commands() { return kCommands; }

const CommandDef* findCommand(std::string_view name) {
  for (const auto& command : kCommands) {
    if (command.name == name) {
      return &command;
    }
  }
  return nullptr;
}

}  // namespace contd::contctl
