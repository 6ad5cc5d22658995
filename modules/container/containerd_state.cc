#include "modules/container/containerd_state.h"

#include <string>
#include <vector>

#include "modules/common/proc_file.h"

namespace contd::container {
namespace {

namespace fs = std::filesystem;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// A TOML basic or literal string value ("..." with \\ and \" escapes, or '...').
std::optional<std::string> tomlString(const std::string& value) {
  if (value.size() < 2 || (value[0] != '"' && value[0] != '\'')) {
    return std::nullopt;
  }
  const char quote = value[0];
  std::string out;
  for (std::size_t i = 1; i < value.size(); ++i) {
    if (value[i] == quote) {
      return out;
    }
    if (quote == '"' && value[i] == '\\' && i + 1 < value.size()) {
      ++i;
    }
    out += value[i];
  }
  return std::nullopt;
}

struct Dirs {
  std::optional<std::string> state;
  std::optional<std::string> address;
};

Dirs readConfig(const fs::path& config) {
  Dirs dirs;
  std::string section;
  std::string text = readProcFile(config);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end;
    const std::string line = trim(text.substr(start, end - start));
    start = end + 1;
    if (!line.empty() && line[0] == '[') {
      section = line;
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    const std::string key = trim(line.substr(0, eq));
    const auto value = tomlString(trim(line.substr(eq + 1)));
    if (section.empty() && key == "state") {
      dirs.state = value;
    } else if (section == "[grpc]" && key == "address") {
      dirs.address = value;
    }
  }
  return dirs;
}

// The value of flag `name`/`short_name` ("--x v", "--x=v", "-x v"), if given.
std::optional<std::string> flag(const std::vector<std::string>& args, const std::string& name,
                                const std::string& short_name) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    for (const std::string& f : {name, short_name, name.substr(1)}) {  // Go takes -config too
      if (f.empty() || f == "-") {
        continue;
      }
      if (args[i] == f && i + 1 < args.size()) {
        return args[i + 1];
      }
      if (args[i].rfind(f + "=", 0) == 0) {
        return args[i].substr(f.size() + 1);
      }
    }
  }
  return std::nullopt;
}

fs::path resolved(const fs::path& path) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(path, ec);
  return ec ? path : out;
}

}  // namespace

std::optional<fs::path> containerdStateDir(const fs::path& address, const fs::path& proc) {
  const fs::path want = resolved(address);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(proc, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const auto args = readProcStrings(entry.path() / "cmdline");
    if (args.empty() || fs::path(args[0]).filename() != "containerd") {
      continue;
    }
    const Dirs config =
        readConfig(flag(args, "--config", "-c").value_or("/etc/containerd/config.toml"));
    const std::string served = flag(args, "--address", "-a")
                                   .value_or(config.address.value_or("/run/containerd/containerd.sock"));
    if (resolved(served) != want) {
      continue;
    }
    return fs::path(flag(args, "--state", "").value_or(config.state.value_or("/run/containerd")));
  }
  return std::nullopt;
}

}  // namespace contd::container
