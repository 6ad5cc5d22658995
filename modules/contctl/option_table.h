#pragma once
// contctl's one table of commands (command_table.cc) and of options (option_table.cc): each
// command with its synopsis and help, each option once with the commands that take it, its
// help and what it does to the Invocation. parseArgs (args.cc) reads them to parse, usage()
// (help.cc) to print the help, so the two cannot drift apart. Pure data and pure functions.

#include <span>
#include <string_view>

#include "modules/common/result.h"
#include "modules/contctl/args.h"

namespace contd::contctl {

// Which commands accept an option.
enum : unsigned {
  kNs = 1, kLs = 2, kInspect = 4, kRun = 8, kRm = 16, kEvents = 32, kExec = 64, kStats = 128,
  kLogs = 256, kImport = 512, kImages = 1024, kRmi = 2048, kPull = 4096, kStop = 8192,
  kStart = 16384, kRestart = 32768, kKill = 65536, kWait = 131072, kUpdate = 262144,
  kHealthcheck = 524288, kVersion = 1048576, kInfo = 2097152,
  kAnyCommand = 4194303
};

struct CommandDef {
  std::string_view name;
  Command command;
  unsigned bit;
  std::string_view synopsis;  // shown after the name in usage()
  std::size_t positionals;    // exactly this many: NS NAME = 2, run NS NAME = 3
  std::string_view help;
};

struct OptionDef {
  std::string_view name;
  std::string_view alias;    // a short form, or ""
  std::string_view metavar;  // "" for a switch
  unsigned commands;
  std::string_view help;
  Status (*apply)(std::string_view option, std::string_view value, Invocation& inv);
};

std::span<const CommandDef> commands();
std::span<const OptionDef> options();
// nullptr when unknown; an option is found by its name or its alias, one of the command
// `command_bit` first (an alias may mean another option for another command).
const OptionDef* findOption(std::string_view name, unsigned command_bit = 0);
const CommandDef* findCommand(std::string_view name);

}  // namespace contd::contctl
