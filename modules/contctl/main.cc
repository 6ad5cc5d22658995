// contctl: the admin tool of contd. Parses the command line (args.h), makes one call
// (client.h) and prints the answer (output.h).
// Exit status: 0 success, 1 an error from contd (or contd unreachable), 2 a usage error.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/util/time_util.h>
#include <nlohmann/json.hpp>

#include "modules/contctl/args.h"
#include "modules/contctl/client.h"
#include "modules/contctl/error_text.h"
#include "modules/contctl/container_list.h"
#include "modules/contctl/daemon_facts.h"
#include "modules/contctl/exec_stream.h"
#include "modules/contctl/follow.h"
#include "modules/contctl/foreground.h"
#include "modules/contctl/image_list.h"
#include "modules/contctl/import_upload.h"
#include "modules/contctl/output.h"
#include "modules/contctl/pull_progress.h"
#include "modules/contctl/template.h"

namespace {

using contd::contctl::Command;
using contd::contctl::Invocation;

constexpr int kExitServer = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnhealthy = 1;   // healthcheck run, as podman

// Prints the answer of a successful call: JSON when asked, else the human text.
// One line per image: NAME DIGEST SIZE.
std::string formatImage(const contd::v1::ImageInfo& image) {
  return image.name() + "  " + image.digest() + "  " + std::to_string(image.size()) + "\n";
}

template <typename Response, typename Human>
int print(const Invocation& inv, const contd::Result<Response>& result, Human human) {
  if (!result) {
    contd::contctl::printError(inv, result.error().message);
    return kExitServer;
  }
  const std::string text = inv.json ? contd::contctl::toJson(*result) : human(*result);
  std::fputs(text.c_str(), stdout);
  return 0;
}

// What stop, start, restart and kill print on success: the name, as podman does.
auto named(const Invocation& inv) {
  return [name = inv.name](const auto&) { return name + "\n"; };
}

// contctl pull: progress redrawn in place on a terminal, one line per change elsewhere,
// JSON lines with --json; the image last.
int pull(contd::contctl::Client& client, const Invocation& inv) {
  contd::v1::PullImageRequest request;
  request.set_namespace_(inv.ns);
  request.set_ref(inv.ref);
  request.set_username(inv.username);
  request.set_password(inv.password);
  request.set_plain_http(inv.plain_http);
  if (inv.password_stdin) {
    std::string password;
    std::getline(std::cin, password);
    request.set_password(password);
  }
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  contd::contctl::PullProgressView view;
  std::size_t drawn = 0;  // lines of the block on the terminal
  contd::v1::ImageInfo image;
  auto done = client.pullImage(request, [&](const contd::v1::PullImageProgress& step) {
    if (step.state() == contd::v1::PullImageProgress::DONE) {
      image = step.image();
    }
    if (inv.json) {
      std::fputs(contd::contctl::toJson(step, true).c_str(), stdout);
      return;
    }
    const auto changed = view.update(step);
    if (!terminal) {
      for (const auto& line : changed) {
        std::printf("%s\n", line.c_str());
      }
      return;
    }
    if (drawn > 0) {
      std::printf("\x1b[%zuA", drawn);  // back to the block's first line
    }
    const auto lines = view.render();
    for (const auto& line : lines) {
      std::printf("\x1b[2K%s\n", line.c_str());
    }
    drawn = lines.size();
    std::fflush(stdout);
  });
  if (!done) {
    contd::contctl::printError(inv, done.error().message);
    return kExitServer;
  }
  if (!inv.json) {
    std::fputs(formatImage(image).c_str(), stdout);
  }
  return 0;
}

// contctl inspect: the container; --json prints the ContainerInfo itself, not wrapped in
// InspectResponse's "info" (docs/contctl.md).
int inspect(contd::contctl::Client& client, const Invocation& inv) {
  auto result = client.inspect(inv.ns, inv.name);
  if (!result) {
    contd::contctl::printError(inv, result.error().message);
    return kExitServer;
  }
  const auto text = inv.json ? contd::contctl::toJson(result->info())
                             : contd::contctl::formatInspect(result->info());
  std::fputs(text.c_str(), stdout);
  return 0;
}

// contctl ls / ps: the containers -a and --filter keep, as a table, -q names, --format or JSON.
int list(contd::contctl::Client& client, const Invocation& inv) {
  auto result = client.list(inv.ns);
  if (!result) {
    contd::contctl::printError(inv, result.error().message);
    return kExitServer;
  }
  auto filter = contd::contctl::ContainerFilter::parse(inv.filters, inv.all);
  if (!filter) {
    contd::contctl::printError(inv, filter.error().message);
    return kExitUsage;
  }
  const auto kept = contd::contctl::filterContainers(*result, *filter);
  if (inv.json || inv.format == "json") {
    std::fputs(contd::contctl::toJson(kept).c_str(), stdout);
    return 0;
  }
  auto text = contd::contctl::formatContainers(kept, {inv.quiet, inv.no_trunc, inv.format},
                                               std::chrono::system_clock::now());
  if (!text) {
    contd::contctl::printError(inv, text.error().message);
    return kExitUsage;
  }
  std::fputs(text->c_str(), stdout);
  return 0;
}

// contctl images: of NS, or of every namespace holding contd containers (a NAMESPACE
// column, and a "namespace" key per image in JSON).
int images(contd::contctl::Client& client, const Invocation& inv) {
  std::vector<contd::contctl::NamespaceImages> lists;
  std::vector<std::string> namespaces = {inv.ns};
  if (inv.ns.empty()) {
    auto all = client.listNamespaces();
    if (!all) {
      contd::contctl::printError(inv, all.error().message);
      return kExitServer;
    }
    namespaces.assign(all->namespaces().begin(), all->namespaces().end());
  }
  for (const auto& ns : namespaces) {
    auto listed = client.listImages(ns);
    if (!listed) {
      contd::contctl::printError(inv, listed.error().message);
      return kExitServer;
    }
    lists.push_back({ns, std::move(*listed)});
  }
  std::string text;
  if (inv.json && !inv.ns.empty()) {
    text = contd::contctl::toJson(lists.front().images);
  } else if (inv.json) {
    auto all = nlohmann::ordered_json::array();
    for (const auto& list : lists) {
      for (const auto& image : list.images.images()) {
        auto one = nlohmann::ordered_json::parse(contd::contctl::toJson(image));
        one["namespace"] = list.ns;
        all.push_back(std::move(one));
      }
    }
    text = nlohmann::ordered_json{{"images", all}}.dump(1) + "\n";
  } else if (inv.quiet) {
    text = contd::contctl::imageNames(lists);
  } else {
    text = contd::contctl::formatImages(lists, inv.ns.empty(), inv.no_trunc,
                                        std::chrono::system_clock::now());
  }
  std::fputs(text.c_str(), stdout);
  return 0;
}

// contctl --json exec: one answer (bounded Exec: the output's last 64 KiB, stdout and
// stderr together). Without --json, exec streams (exec_stream.h).
int execJson(contd::contctl::Client& client, const Invocation& inv) {
  const std::vector<std::string> argv(inv.spec.argv().begin(), inv.spec.argv().end());
  return print(inv, client.exec(inv.ns, inv.name, argv, inv.timeout_ms),
               [](const auto&) { return std::string(); });
}

// contctl healthcheck run: "healthy" and exit 0 when the check passed, "unhealthy" and exit 1
// when it failed (podman's words and codes), its output on stderr then.
int healthcheck(contd::contctl::Client& client, const Invocation& inv) {
  auto run = client.runHealthCheck(inv.ns, inv.name);
  if (!run) {
    contd::contctl::printError(inv, run.error().message);
    return kExitServer;
  }
  const bool passed = run->result().exit_code() == 0;
  if (inv.json) {
    std::fputs(contd::contctl::toJson(*run).c_str(), stdout);
  } else {
    std::puts(passed ? "healthy" : "unhealthy");
    const std::string& output = run->result().output();
    if (!passed && !output.empty()) {
      std::fputs(output.c_str(), stderr);
      if (output.back() != '\n') {
        std::fputc('\n', stderr);
      }
    }
  }
  return passed ? 0 : kExitUnhealthy;
}

// contctl version: our version first, whatever happens; then contd's, containerd's and the
// runtime's, or the one-line error when contd cannot be asked (exit 1). --json: one object,
// {"contctl": ...} alone when contd cannot be asked.
int version(contd::contctl::Client& client, const Invocation& inv) {
  auto answer = client.version();
  if (inv.json && answer) {
    std::fputs(contd::contctl::versionJson(CONTD_VERSION, *answer).c_str(), stdout);
    return 0;
  }
  if (!answer) {
    std::printf(inv.json ? "{\n \"contctl\": \"%s\"\n}\n" : "contctl %s\n", CONTD_VERSION);
    std::fflush(stdout);
    contd::contctl::printError(inv, answer.error().message);
    return kExitServer;
  }
  std::fputs(contd::contctl::formatVersion(CONTD_VERSION, *answer).c_str(), stdout);
  return 0;
}

// contctl info: a summary, --json / --format json the InfoResponse, or a template.
int info(contd::contctl::Client& client, const Invocation& inv) {
  auto answer = client.info();
  if (!answer) {
    contd::contctl::printError(inv, answer.error().message);
    return kExitServer;
  }
  std::string text;
  if (inv.json || inv.format == "json") {
    text = contd::contctl::toJson(*answer);
  } else if (!inv.format.empty()) {
    auto parsed = contd::contctl::Template::parse(inv.format, contd::contctl::infoFields());
    if (!parsed) {
      contd::contctl::printError(inv, parsed.error().message);
      return kExitUsage;
    }
    const auto field = [&](std::string_view name) {
      return contd::contctl::infoField(*answer, name);
    };
    text = parsed->table() ? parsed->renderTable(1, [&](std::size_t, std::string_view name) {
      return field(name);
    })
                           : parsed->render(field);
  } else {
    text = contd::contctl::formatInfo(*answer);
  }
  std::fputs(text.c_str(), stdout);
  return 0;
}

int execute(const Invocation& inv) {
  contd::contctl::Client client(inv.socket);
  switch (inv.command) {
    case Command::kNamespaces:
      return print(inv, client.listNamespaces(), contd::contctl::formatNamespaces);
    case Command::kList:
      return list(client, inv);
    case Command::kInspect:
      return inspect(client, inv);
    case Command::kRun:
      if (inv.spec.auto_remove() && !inv.detach && !inv.json) {
        return contd::contctl::runInForeground(client, inv);
      }
      return print(inv, client.run(inv.ns, inv.spec),
                   [](const auto& r) { return r.id() + "\n"; });
    case Command::kStop:
      return print(inv, client.stop(inv.ns, inv.name, inv.stop_timeout_ms), named(inv));
    case Command::kStart:
      return print(inv, client.start(inv.ns, inv.name), named(inv));
    case Command::kRestart:
      return print(inv, client.restart(inv.ns, inv.name, inv.stop_timeout_ms), named(inv));
    case Command::kKill:
      return print(inv, client.kill(inv.ns, inv.name, inv.signal), named(inv));
    case Command::kWait:
      return print(inv, client.wait(inv.ns, inv.name),
                   [](const auto& r) { return std::to_string(r.exit_code()) + "\n"; });
    case Command::kUpdate:
      return print(inv, client.update(inv.ns, inv.name, inv.limits),
                   [](const auto& r) { return contd::contctl::formatLimits(r.info()); });
    case Command::kRemove:
      return print(inv, client.remove(inv.ns, inv.name),
                   [](const auto&) { return std::string(); });
    case Command::kEvents:
      return contd::contctl::eventsCommand(client, inv);
    case Command::kStats:
      return print(inv, client.stats(inv.ns, inv.name), contd::contctl::formatStats);
    case Command::kImport:
      return contd::contctl::importCommand(client, inv);
    case Command::kPull:
      return pull(client, inv);
    case Command::kImages:
      return images(client, inv);
    case Command::kRemoveImage:
      return print(inv, client.removeImage(inv.ns, inv.name),
                   [](const auto&) { return std::string(); });
    case Command::kExec:
      return inv.json ? execJson(client, inv) : contd::contctl::runExecStream(client, inv);
    case Command::kLogs:
      return contd::contctl::logsCommand(client, inv);
    case Command::kHealthcheck:
      return healthcheck(client, inv);
    case Command::kVersion:
      std::printf("contctl %s\n", CONTD_VERSION);
      return 0;
    case Command::kDaemonVersion:
      return version(client, inv);
    case Command::kInfo:
      return info(client, inv);
    case Command::kHelp:
      break;
  }
  std::fputs(contd::contctl::usage(inv.help_topic).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  std::optional<std::string_view> env_socket;
  if (const char* value = std::getenv("CONTD_SOCKET")) {
    env_socket = value;
  }
  auto inv = contd::contctl::parseArgs(args, env_socket);
  if (!inv) {
    std::fprintf(stderr, "contctl: %s\nTry 'contctl help'.\n", inv.error().message.c_str());
    return kExitUsage;
  }
  return execute(*inv);
}
