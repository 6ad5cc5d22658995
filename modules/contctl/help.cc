// contctl's help, generated from the command and option tables (option_table.h): every
// option is printed under each command that takes it, so the help cannot drift from the
// parser, and no section is empty.

#include <algorithm>
#include <string>
#include <vector>

#include "modules/contctl/args.h"
#include "modules/contctl/option_table.h"

namespace contd::contctl {
namespace {

std::string line(std::string left, std::string_view help) {
  left.resize(std::max<std::size_t>(left.size() + 2, 32), ' ');
  return left + std::string(help) + "\n";
}

std::string optionLine(const OptionDef& option) {
  std::string left = "  ";
  if (!option.alias.empty()) {
    left += std::string(option.alias) + ", ";
  }
  left += std::string(option.name);
  if (!option.metavar.empty()) {
    left += " " + std::string(option.metavar);
  }
  return line(left, option.help);
}

// The options of the commands of `bit` (not those of every command); "" when none.
std::string optionLines(unsigned bit) {
  std::string text;
  for (const auto& option : options()) {
    if (option.commands != kAnyCommand && (option.commands & bit) != 0) {
      text += optionLine(option);
    }
  }
  return text;
}

std::string globalLines() {
  std::string text;
  for (const auto& option : options()) {
    if (option.commands == kAnyCommand) {
      text += optionLine(option);
    }
  }
  return text;
}

// "ls and ps", "stop and restart": the commands sharing `bit`.
std::string commandNames(unsigned bit) {
  std::vector<std::string_view> names;
  for (const auto& command : commands()) {
    if (command.bit == bit) {
      names.push_back(command.name);
    }
  }
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + std::string(names[i]);
  }
  return text;
}

std::string commandUsage(const CommandDef& command) {
  std::string text = "usage: contctl " + std::string(command.name) +
                     (command.synopsis.empty() ? "" : " " + std::string(command.synopsis)) +
                     "\n\n" + std::string(command.help) + "\n";
  if (const auto names = commandNames(command.bit); names.find(" and ") != std::string::npos) {
    text += "(" + names + " are the same command)\n";
  }
  if (const auto own = optionLines(command.bit); command.bit != 0 && !own.empty()) {
    text += "\n" + std::string(command.name) + " options:\n" + own;
  }
  return text + "\noptions of every command:\n" + globalLines();
}

}  // namespace

std::string usage(std::string_view topic) {
  if (const CommandDef* command = topic.empty() ? nullptr : findCommand(topic)) {
    return commandUsage(*command);
  }
  std::string text =
      "usage: contctl [--socket PATH] [--json] COMMAND [ARGS...]\n"
      "       contctl help COMMAND | COMMAND --help | --version\n"
      "\n"
      "The admin tool of contd: talks to the daemon over its gRPC socket.\n"
      "\n"
      "commands:\n";
  for (const auto& command : commands()) {
    text += line("  " + std::string(command.name) +
                     (command.synopsis.empty() ? "" : " " + std::string(command.synopsis)),
                 command.help);
  }
  text += "\noptions of every command:\n" + globalLines();
  std::vector<unsigned> done;
  for (const auto& command : commands()) {
    const auto own = optionLines(command.bit);
    if (command.bit == 0 || own.empty() ||
        std::find(done.begin(), done.end(), command.bit) != done.end()) {
      continue;
    }
    done.push_back(command.bit);
    text += "\n" + commandNames(command.bit) + " options:\n" + own;
  }
  text +=
      "\n"
      "exit status: 0 on success, 1 when contd answers with an error (printed as\n"
      "'contctl: CODE: message'), 2 for a usage error.\n";
  return text;
}

}  // namespace contd::contctl
