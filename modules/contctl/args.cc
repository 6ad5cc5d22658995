#include "modules/contctl/args.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "modules/contctl/container_list.h"
#include "modules/contctl/daemon_facts.h"
#include "modules/contctl/option_table.h"
#include "modules/contctl/template.h"

namespace contd::contctl {
namespace {

// What run needs beyond its positionals; checked here so the user sees a usage error
// naming the option, not a server round trip.
Status checkRun(const Invocation& inv) {
  if (inv.spec.rootfs().empty() && inv.spec.image().empty()) {
    return invalidArgument("run: --rootfs DIR or --image NAME is required");
  }
  if (!inv.spec.rootfs().empty() && !inv.spec.image().empty()) {
    return invalidArgument("run: give either --rootfs or --image, not both");
  }
  if (inv.spec.network_namespace().empty()) {
    return invalidArgument("run: --netns NAME is required");
  }
  // From an image, the image's Entrypoint/Cmd is the default command.
  if (inv.spec.argv().empty() && inv.spec.entrypoint().empty() && inv.spec.image().empty()) {
    return invalidArgument("run: a command is required: -- CMD... or --entrypoint 'CMD'");
  }
  if (!inv.spec.argv().empty() && !inv.spec.entrypoint().empty()) {
    return invalidArgument("run: give either -- CMD... or --entrypoint, not both");
  }
  if (inv.spec.has_health() && inv.spec.health().argv().empty()) {
    return invalidArgument("run: --health-interval, --health-timeout, --health-retries and "
                           "--health-start-period need --health-cmd");
  }
  return okStatus();
}

}  // namespace

namespace {

// "-it": short switches of the command written together, like podman's.
bool isShortSwitchGroup(std::string_view arg, const CommandDef* command) {
  if (command == nullptr || arg.size() < 3 || arg[0] != '-' || arg[1] == '-') {
    return false;
  }
  for (char letter : arg.substr(1)) {
    const OptionDef* option = findOption(std::string{'-', letter}, command->bit);
    if (option == nullptr || (option->commands & command->bit) == 0 ||
        !option->metavar.empty()) {
      return false;
    }
  }
  return true;
}

// One option at args[i] (moving i past its value when it takes the next argument).
Status applyOption(std::span<const std::string_view> args, std::size_t& i,
                   const CommandDef* command, Invocation& inv, bool& help, bool& version) {
  std::string_view arg = args[i];
  std::optional<std::string_view> value;
  if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
    value = arg.substr(eq + 1);
    arg = arg.substr(0, eq);
  }
  const OptionDef* option = findOption(arg, command != nullptr ? command->bit : 0);
  if (option == nullptr && isShortSwitchGroup(arg, command)) {
    for (char letter : arg.substr(1)) {
      const std::string one{'-', letter};
      CONTD_RETURN_IF_ERROR(findOption(one, command->bit)->apply(one, "", inv));
    }
    return okStatus();
  }
  if (option == nullptr) {
    return invalidArgument("unknown option '" + std::string(arg) + "'");
  }
  if (option->commands != kAnyCommand &&
      (command == nullptr || (option->commands & command->bit) == 0)) {
    return invalidArgument(std::string(arg) + ": not an option of " +
                           (command ? "'" + std::string(command->name) + "'" : "contctl") +
                           " (see contctl help)");
  }
  if (option->metavar.empty()) {
    if (value) {
      return invalidArgument(std::string(arg) + ": takes no value");
    }
  } else if (!value) {
    if (i + 1 >= args.size()) {
      return invalidArgument(std::string(arg) + ": missing " + std::string(option->metavar));
    }
    value = args[++i];
  }
  CONTD_RETURN_IF_ERROR(option->apply(arg, value.value_or(""), inv));
  help = help || option->name == "--help";
  version = version || option->name == "--version";
  return okStatus();
}

Status checkPositionals(const CommandDef& command,
                        const std::vector<std::string_view>& positionals) {
  if (positionals.size() == command.positionals) {
    return okStatus();
  }
  const auto name = std::string(command.name);
  if (command.positionals == 0) {
    return invalidArgument(name + ": unexpected argument '" + std::string(positionals[0]) + "'");
  }
  const std::string hint = command.command == Command::kRun ? " (the command goes after --)" : "";
  // The synopsis starts with the positionals: "NS NAME", "NS PATH", "run NS NAME".
  const std::string_view synopsis = command.synopsis;
  std::size_t end = 0;
  for (std::size_t word = 0; word < command.positionals && end != std::string_view::npos; ++word) {
    end = synopsis.find(' ', word == 0 ? 0 : end + 1);
  }
  return invalidArgument(name + ": expected " + std::string(synopsis.substr(0, end)) + ", got " +
                         std::to_string(positionals.size()) + " argument(s)" + hint);
}

// What each command makes of its positionals and of the words after "--" (from args[i]).
Status finishCommand(std::span<const std::string_view> args, std::size_t i, Invocation& inv) {
  if (inv.command == Command::kImport) {
    inv.path = std::move(inv.name);
    inv.name.clear();
  }
  if (inv.command == Command::kPull) {
    inv.ref = std::move(inv.name);
    inv.name.clear();
    if (inv.password_stdin && inv.username.empty()) {
      return invalidArgument("pull: --password-stdin needs --creds USER");
    }
    if (inv.password_stdin && !inv.password.empty()) {
      return invalidArgument("pull: --creds gives a password already; drop --password-stdin");
    }
  }
  if (inv.command == Command::kList) {
    // Checked here so a bad filter or template is a usage error before any call.
    CONTD_RETURN_IF_ERROR(ContainerFilter::parse(inv.filters, inv.all));
    if (!inv.format.empty() && inv.format != "json") {
      CONTD_RETURN_IF_ERROR(Template::parse(inv.format, containerFields()));
    }
  }
  if (inv.command == Command::kInfo && !inv.format.empty() && inv.format != "json") {
    CONTD_RETURN_IF_ERROR(Template::parse(inv.format, infoFields()));
  }
  if (inv.command == Command::kRun || inv.command == Command::kExec) {
    for (; i < args.size(); ++i) {
      inv.spec.add_argv(std::string(args[i]));
    }
  }
  if (inv.command == Command::kRun) {
    inv.spec.set_name(inv.name);
    return checkRun(inv);
  }
  if (inv.command == Command::kExec && inv.spec.argv().empty()) {
    return invalidArgument("exec: a command is required: NS NAME [--] CMD...");
  }
  if (inv.command == Command::kUpdate && !inv.limits.has_cpu() &&
      !inv.limits.has_memory_bytes() && !inv.limits.has_pids_limit()) {
    return invalidArgument("update: give at least one of --memory, --cpu, --pids");
  }
  return okStatus();
}

// "help", "help CMD", "CMD --help": the help, of CMD when named.
Result<Invocation> helpFor(const CommandDef* command,
                           const std::vector<std::string_view>& positionals, Invocation inv) {
  inv.command = Command::kHelp;
  if (command != nullptr && command->command != Command::kHelp) {
    inv.help_topic = command->name;
  } else if (positionals.size() > 1) {
    return invalidArgument("help: expected at most one command, got " +
                           std::to_string(positionals.size()));
  } else if (positionals.size() == 1) {
    const CommandDef* topic = findCommand(positionals[0]);
    if (topic == nullptr) {
      return invalidArgument("help: unknown command '" + std::string(positionals[0]) + "'");
    }
    inv.help_topic = topic->name;
  }
  return inv;
}

}  // namespace

Result<Invocation> parseArgs(std::span<const std::string_view> args,
                             std::optional<std::string_view> env_socket) {
  Invocation inv;
  if (env_socket && !env_socket->empty()) {
    inv.socket = *env_socket;
  }
  const CommandDef* command = nullptr;
  bool help = false;
  bool version = false;
  std::vector<std::string_view> positionals;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.starts_with("-") && arg != "-") {
      CONTD_RETURN_IF_ERROR(applyOption(args, i, command, inv, help, version));
    } else if (command != nullptr && command->command == Command::kExec &&
               positionals.size() == command->positionals) {
      break;  // exec NS NAME CMD...: the command starts here, "--" or not (like podman)
    } else if (command != nullptr) {
      positionals.push_back(arg);
    } else if (command = findCommand(arg); command == nullptr) {
      return invalidArgument("unknown command '" + std::string(arg) + "'");
    }
  }
  if (version) {
    inv.command = Command::kVersion;
    return inv;
  }
  if (help || (command != nullptr && command->command == Command::kHelp)) {
    return helpFor(command, positionals, std::move(inv));
  }
  if (command == nullptr) {
    return invalidArgument("missing command");
  }
  inv.command = command->command;
  if (i < args.size() && command->command != Command::kRun && command->command != Command::kExec) {
    return invalidArgument(std::string(command->name) + ": unexpected '--'");
  }
  CONTD_RETURN_IF_ERROR(checkPositionals(*command, positionals));
  if (command->command == Command::kHealthcheck) {
    // "healthcheck run NS NAME", as podman has it: run is the one subcommand.
    if (positionals[0] != "run") {
      return invalidArgument("healthcheck: unknown subcommand '" + std::string(positionals[0]) +
                             "' (expected run)");
    }
    positionals.erase(positionals.begin());
  }
  if (positionals.size() == 2) {
    inv.ns = positionals[0];
    inv.name = positionals[1];
  }
  CONTD_RETURN_IF_ERROR(finishCommand(args, i, inv));
  return inv;
}

}  // namespace contd::contctl
