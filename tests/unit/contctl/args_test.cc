// contctl's command line: what run builds, what each command takes, and usage errors that
// name the culprit. Plus the table and inspect output.

#include "modules/contctl/args.h"

#include <vector>

#include <gtest/gtest.h>

#include "modules/contctl/option_table.h"
#include "modules/contctl/output.h"

namespace contd::contctl {
namespace {

Result<Invocation> parse(std::vector<std::string_view> args,
                         std::optional<std::string_view> env_socket = std::nullopt) {
  return parseArgs(args, env_socket);
}

TEST(ContctlArgs, RunBuildsTheFullSpec) {
  auto inv = parse({"run", "demo", "web", "--rootfs", "/srv/rootfs", "--netns", "net1",
                    "--env", "A=1", "--env=B=x=y", "--mount", "/data:/data",
                    "--mount", "/etc/ssl:/etc/ssl:ro", "--cpu", "2", "--memory", "64M",
                    "--pids", "-1", "--workdir", "/srv", "--hostname", "h1", "--tag", "t1",
                    "--tag", "t2", "--elevated", "--shutdown-timeout", "10000",
                    "--seccomp", "unconfined", "--readonly-rootfs",
                    "--", "/bin/sh", "-c", "echo --not-an-option"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->command, Command::kRun);
  EXPECT_EQ(inv->ns, "demo");
  EXPECT_EQ(inv->name, "web");
  const auto& spec = inv->spec;
  EXPECT_EQ(spec.name(), "web");
  EXPECT_EQ(spec.rootfs(), "/srv/rootfs");
  EXPECT_EQ(spec.network_namespace(), "net1");
  ASSERT_EQ(spec.env_size(), 2);
  EXPECT_EQ(spec.env(0), "A=1");
  EXPECT_EQ(spec.env(1), "B=x=y");
  ASSERT_EQ(spec.mounts_size(), 2);
  EXPECT_EQ(spec.mounts(0).source(), "/data");
  EXPECT_EQ(spec.mounts(0).target(), "/data");
  EXPECT_FALSE(spec.mounts(0).readonly());
  EXPECT_EQ(spec.mounts(1).target(), "/etc/ssl");
  EXPECT_TRUE(spec.mounts(1).readonly());
  EXPECT_EQ(spec.cpu(), 2U);
  EXPECT_EQ(spec.memory_bytes(), 64ULL << 20);
  EXPECT_EQ(spec.pids_limit(), -1);
  EXPECT_EQ(spec.working_dir(), "/srv");
  EXPECT_EQ(spec.hostname(), "h1");
  ASSERT_EQ(spec.tags_size(), 2);
  EXPECT_TRUE(spec.elevated());
  EXPECT_EQ(spec.shutdown_timeout_ms(), 10000U);
  EXPECT_EQ(spec.seccomp(), "unconfined");
  EXPECT_TRUE(spec.readonly_rootfs());
  // Everything after "--" is the command, options included.
  ASSERT_EQ(spec.argv_size(), 3);
  EXPECT_EQ(spec.argv(0), "/bin/sh");
  EXPECT_EQ(spec.argv(2), "echo --not-an-option");
  EXPECT_TRUE(spec.entrypoint().empty());
}

TEST(ContctlArgs, RunTakesAUser) {
  auto inv = parse({"run", "demo", "web", "--image", "busybox:1", "--netns", "n", "--user",
                    "app:staff"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->spec.user(), "app:staff");
  auto short_form = parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "-u", "1000",
                           "--", "/bin/id"});
  ASSERT_TRUE(short_form) << short_form.error().message;
  EXPECT_EQ(short_form->spec.user(), "1000");
  auto equals = parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "--user=0:0",
                       "--", "/bin/id"});
  ASSERT_TRUE(equals) << equals.error().message;
  EXPECT_EQ(equals->spec.user(), "0:0");
  EXPECT_TRUE(parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "--", "/bin/id"})
                  ->spec.user()
                  .empty());

  auto missing = parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "--user"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "--user: missing USER[:GROUP]");
  // Only run takes it: pull's credentials are --creds.
  auto pull = parse({"pull", "demo", "busybox", "--user", "bob"});
  ASSERT_FALSE(pull);
  EXPECT_EQ(pull.error().message, "--user: not an option of 'pull' (see contctl help)");
  EXPECT_NE(usage().find("-u, --user USER[:GROUP]"), std::string::npos);
}

TEST(ContctlArgs, RunWithEntrypointAndPlainMemory) {
  auto inv = parse({"run", "demo", "web", "--rootfs=/r", "--netns=/var/run/netns/n",
                    "--memory", "67108864", "--entrypoint", "/bin/sh -c 'sleep 1'"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->spec.entrypoint(), "/bin/sh -c 'sleep 1'");
  EXPECT_EQ(inv->spec.memory_bytes(), 67108864U);
  EXPECT_EQ(inv->spec.argv_size(), 0);
}

TEST(ContctlArgs, RunRequiresRootfsNetnsAndACommand) {
  auto no_rootfs = parse({"run", "demo", "web", "--netns", "n", "--", "/bin/true"});
  ASSERT_FALSE(no_rootfs);
  EXPECT_EQ(no_rootfs.error().message, "run: --rootfs DIR or --image NAME is required");

  auto no_netns = parse({"run", "demo", "web", "--rootfs", "/r", "--", "/bin/true"});
  ASSERT_FALSE(no_netns);
  EXPECT_EQ(no_netns.error().message, "run: --netns NAME is required");

  auto no_command = parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n"});
  ASSERT_FALSE(no_command);
  EXPECT_NE(no_command.error().message.find("a command is required"), std::string::npos);

  auto both = parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "--entrypoint",
                     "/bin/true", "--", "/bin/true"});
  ASSERT_FALSE(both);

  auto command_without_dashes =
      parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "/bin/true"});
  ASSERT_FALSE(command_without_dashes);
  EXPECT_NE(command_without_dashes.error().message.find("after --"), std::string::npos);
}

TEST(ContctlArgs, BadValuesNameTheOption) {
  const std::vector<std::pair<std::vector<std::string_view>, std::string>> cases = {
      {{"--mount", "/data"}, "--mount '/data': expected SRC:DST[:ro]"},
      {{"--mount", "/a:/b:rx"}, "--mount '/a:/b:rx': expected SRC:DST[:ro]"},
      {{"--mount", ":/b"}, "--mount ':/b': expected SRC:DST[:ro]"},
      {{"--mount", "/a:/b:ro:x"}, "--mount '/a:/b:ro:x': expected SRC:DST[:ro]"},
      {{"--env", "NOVALUE"}, "--env 'NOVALUE': expected KEY=VALUE"},
      {{"--env", "=x"}, "--env '=x': expected KEY=VALUE"},
      {{"--cpu", "two"}, "--cpu 'two': expected a whole number"},
      {{"--cpu", "-1"}, "--cpu '-1': expected a whole number"},
      {{"--memory", "1X"}, "--memory '1X': expected a byte count such as 67108864, 512M or 2G"},
      {{"--pids", "1.5"}, "--pids '1.5': expected a whole number"},
  };
  for (const auto& [options, message] : cases) {
    std::vector<std::string_view> args = {"run", "demo", "web", "--rootfs", "/r", "--netns", "n"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {"--", "/bin/true"});
    auto inv = parse(args);
    ASSERT_FALSE(inv) << options[0] << " " << options[1];
    EXPECT_EQ(inv.error().code, Code::kInvalidArgument);
    EXPECT_EQ(inv.error().message, message);
  }
}

TEST(ContctlArgs, RunTakesAHealthCheck) {
  auto inv = parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "--health-cmd",
                    "/bin/sh -c 'test -f /tmp/ok'", "--health-interval", "1s",
                    "--health-timeout=500ms", "--health-retries", "2", "--health-start-period",
                    "2m", "--", "/bin/server"});
  ASSERT_TRUE(inv) << inv.error().message;
  ASSERT_TRUE(inv->spec.has_health());
  const auto& health = inv->spec.health();
  ASSERT_EQ(health.argv_size(), 3);
  EXPECT_EQ(health.argv(0), "/bin/sh");
  EXPECT_EQ(health.argv(2), "test -f /tmp/ok");
  EXPECT_EQ(health.interval_ms(), 1000U);
  EXPECT_EQ(health.timeout_ms(), 500U);
  EXPECT_EQ(health.retries(), 2U);
  EXPECT_EQ(health.start_period_ms(), 120'000U);
  EXPECT_EQ(parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "--health-cmd",
                   "/bin/true", "--health-interval", "1h", "--", "/bin/server"})
                ->spec.health()
                .interval_ms(),
            3'600'000U);
  auto plain = parse({"run", "demo", "web", "--rootfs", "/r", "--netns", "n", "--", "/bin/x"});
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->spec.has_health());
}

TEST(ContctlArgs, HealthOptionsNameTheirMistakes) {
  const std::vector<std::pair<std::vector<std::string_view>, std::string>> cases = {
      {{"--health-cmd", "/bin/true", "--health-interval", "30"},
       "--health-interval '30': expected a duration such as 500ms, 30s, 10m or 1h30m"},
      {{"--health-cmd", "/bin/true", "--health-timeout", "1.5s"},
       "--health-timeout '1.5s': expected a duration such as 500ms, 30s, 10m or 1h30m"},
      {{"--health-cmd", "/bin/true", "--health-start-period", "s"},
       "--health-start-period 's': expected a duration such as 500ms, 30s, 10m or 1h30m"},
      {{"--health-cmd", "/bin/true", "--health-retries", "-1"},
       "--health-retries '-1': expected a whole number"},
      {{"--health-cmd", "'unterminated"},
       "--health-cmd ''unterminated': expected a command such as \"/bin/sh -c 'test -f /ok'\""},
      {{"--health-interval", "5s"},
       "run: --health-interval, --health-timeout, --health-retries and --health-start-period "
       "need --health-cmd"},
  };
  for (const auto& [options, message] : cases) {
    std::vector<std::string_view> args = {"run", "demo", "web", "--rootfs", "/r", "--netns", "n"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {"--", "/bin/true"});
    auto inv = parse(args);
    ASSERT_FALSE(inv) << options[1];
    EXPECT_EQ(inv.error().message, message);
  }
}

TEST(ContctlArgs, HealthcheckRunTakesNsAndName) {
  auto inv = parse({"healthcheck", "run", "demo", "web"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->command, Command::kHealthcheck);
  EXPECT_EQ(inv->ns, "demo");
  EXPECT_EQ(inv->name, "web");
  EXPECT_EQ(parse({"healthcheck", "demo", "web"}).error().message,
            "healthcheck: expected run NS NAME, got 2 argument(s)");
  EXPECT_EQ(parse({"healthcheck", "check", "demo", "web"}).error().message,
            "healthcheck: unknown subcommand 'check' (expected run)");
  // logs --since takes the same durations.
  EXPECT_TRUE(parse({"logs", "demo", "web", "--since", "500ms"}));
  EXPECT_EQ(parse({"logs", "demo", "web", "--since", "10"}).error().message,
            "--since '10': expected a time such as 2026-11-22T09:46:47Z, a date such as "
            "2026-11-22 or an age such as 10m or 1h30m");
}

TEST(ContctlArgs, OtherCommands) {
  auto ns = parse({"ns"});
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->command, Command::kNamespaces);

  auto ls = parse({"ls"});
  ASSERT_TRUE(ls);
  EXPECT_EQ(ls->command, Command::kList);
  EXPECT_EQ(ls->ns, "");

  auto ls_ns = parse({"ls", "-n", "demo", "--json"});
  ASSERT_TRUE(ls_ns);
  EXPECT_EQ(ls_ns->ns, "demo");
  EXPECT_TRUE(ls_ns->json);

  auto inspect = parse({"--json", "inspect", "demo", "web"});
  ASSERT_TRUE(inspect);
  EXPECT_EQ(inspect->command, Command::kInspect);
  EXPECT_EQ(inspect->ns, "demo");
  EXPECT_EQ(inspect->name, "web");
  EXPECT_TRUE(inspect->json);

  auto rm = parse({"rm", "demo", "web"});
  ASSERT_TRUE(rm);
  EXPECT_EQ(rm->command, Command::kRemove);

  EXPECT_EQ(parse({"help"})->command, Command::kHelp);
  EXPECT_EQ(parse({"ls", "--help"})->command, Command::kHelp);
}

TEST(ContctlArgs, ExecTakesPodmansSwitchesAndACommandWithOrWithoutDashes) {
  auto shell = parse({"exec", "-it", "demo", "web", "/bin/sh", "-c", "echo -t"});
  ASSERT_TRUE(shell) << shell.error().message;
  EXPECT_EQ(shell->command, Command::kExec);
  EXPECT_TRUE(shell->interactive);
  EXPECT_TRUE(shell->tty);
  EXPECT_EQ(shell->ns, "demo");
  EXPECT_EQ(shell->name, "web");
  ASSERT_EQ(shell->spec.argv_size(), 3);  // options after the command are the command's
  EXPECT_EQ(shell->spec.argv(2), "echo -t");
  EXPECT_EQ(shell->timeout_ms, 0u) << "no time limit unless asked";

  auto apart = parse({"exec", "demo", "web", "-t", "-i", "--timeout", "500", "--", "ls"});
  ASSERT_TRUE(apart) << apart.error().message;
  EXPECT_TRUE(apart->tty && apart->interactive);
  EXPECT_EQ(apart->timeout_ms, 500u);
  EXPECT_EQ(apart->spec.argv(0), "ls");
  EXPECT_FALSE(parse({"exec", "demo", "web", "ls"})->tty);

  // -t is stop's --time: the same letter, another option.
  auto stop = parse({"stop", "demo", "web", "-t", "5"});
  ASSERT_TRUE(stop) << stop.error().message;
  EXPECT_EQ(stop->stop_timeout_ms, 5000u);
  EXPECT_EQ(parse({"exec", "demo", "web"}).error().message,
            "exec: a command is required: NS NAME [--] CMD...");
  EXPECT_EQ(parse({"exec", "-ix", "demo", "web", "ls"}).error().message,
            "unknown option '-ix'");
  EXPECT_EQ(parse({"stop", "-it", "demo", "web"}).error().message, "unknown option '-it'");
}

TEST(ContctlArgs, UpdateSendsOnlyTheLimitsGiven) {
  auto inv = parse({"update", "demo", "web", "--memory", "128m", "--pids=0"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->command, Command::kUpdate);
  EXPECT_EQ(inv->ns, "demo");
  EXPECT_EQ(inv->name, "web");
  ASSERT_TRUE(inv->limits.has_memory_bytes());
  EXPECT_EQ(inv->limits.memory_bytes(), 128u << 20);
  ASSERT_TRUE(inv->limits.has_pids_limit()) << "--pids 0 is given, not unset";
  EXPECT_EQ(inv->limits.pids_limit(), 0);
  EXPECT_FALSE(inv->limits.has_cpu());

  auto cpu = parse({"update", "--cpu", "0", "demo", "web"});
  ASSERT_TRUE(cpu) << cpu.error().message;
  EXPECT_TRUE(cpu->limits.has_cpu());
  EXPECT_FALSE(cpu->limits.has_memory_bytes());

  EXPECT_EQ(parse({"update", "demo", "web"}).error().message,
            "update: give at least one of --memory, --cpu, --pids");
  EXPECT_EQ(parse({"update", "demo", "web", "--memory", "1X"}).error().message,
            "--memory '1X': expected a byte count such as 67108864, 512M or 2G");
  EXPECT_EQ(parse({"update", "demo", "web", "--env", "A=1"}).error().message,
            "--env: not an option of 'update' (see contctl help)");
  EXPECT_EQ(parse({"update", "demo", "--cpu", "1"}).error().message,
            "update: expected NS NAME, got 1 argument(s)");
}

TEST(ContctlArgs, SocketFromFlagThenEnvironmentThenDefault) {
  EXPECT_EQ(parse({"ns"})->socket, "/run/contd/contd.sock");
  EXPECT_EQ(parse({"ns"}, "/tmp/env.sock")->socket, "/tmp/env.sock");
  EXPECT_EQ(parse({"--socket", "/tmp/flag.sock", "ns"}, "/tmp/env.sock")->socket,
            "/tmp/flag.sock");
  EXPECT_EQ(parse({"ns", "--socket=/tmp/late.sock"})->socket, "/tmp/late.sock");
}

TEST(ContctlArgs, UsageErrors) {
  EXPECT_EQ(parse({}).error().message, "missing command");
  EXPECT_EQ(parse({"launch"}).error().message, "unknown command 'launch'");
  EXPECT_EQ(parse({"ls", "--bogus"}).error().message, "unknown option '--bogus'");
  EXPECT_EQ(parse({"inspect", "demo"}).error().message,
            "inspect: expected NS NAME, got 1 argument(s)");
  EXPECT_EQ(parse({"ns", "extra"}).error().message, "ns: unexpected argument 'extra'");
  EXPECT_EQ(parse({"ls", "--rootfs", "/r"}).error().message,
            "--rootfs: not an option of 'ls' (see contctl help)");
  EXPECT_EQ(parse({"ls", "-n"}).error().message, "-n: missing NS");
  EXPECT_EQ(parse({"--json=yes", "ls"}).error().message, "--json: takes no value");
  EXPECT_EQ(parse({"rm", "demo", "web", "--", "x"}).error().message, "rm: unexpected '--'");
}

TEST(ContctlArgs, RunFromAnImageNeedsNoRootfsNorCommand) {
  auto inv = parse({"run", "demo", "web", "--image", "busybox:1", "--netns", "n"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->spec.image(), "busybox:1");
  EXPECT_TRUE(inv->spec.rootfs().empty());

  auto both = parse({"run", "demo", "web", "--image", "i", "--rootfs", "/r", "--netns", "n"});
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().message, "run: give either --rootfs or --image, not both");
}

TEST(ContctlArgs, UsageListsEveryCommandAndRunOption) {
  const auto text = usage();
  for (const char* word : {"ns", "ls [-n NS]", "inspect NS NAME", "rm NS NAME", "--rootfs DIR",
                           "--mount SRC:DST[:ro]", "--shutdown-timeout MS", "--json",
                           "update NS NAME", "update options:", "--memory BYTES",
                           "ls and ps options:", "--version"}) {
    EXPECT_NE(text.find(word), std::string::npos) << word;
  }
}

// Each option under every command whose mask takes it, in the full help and in the
// command's own; no section without options.
TEST(ContctlArgs, HelpShowsEveryOptionUnderEachCommandTakingIt) {
  const auto full = usage();
  for (const auto& command : commands()) {
    if (command.bit == 0) {
      continue;
    }
    const auto own = usage(command.name);
    EXPECT_TRUE(own.starts_with("usage: contctl " + std::string(command.name))) << own;
    for (const auto& option : options()) {
      // "  -a, --all " or "  --name NAME ", as the help line starts.
      const std::string left =
          "\n  " + (option.alias.empty() ? "" : std::string(option.alias) + ", ") +
          std::string(option.name) +
          (option.metavar.empty() ? "" : " " + std::string(option.metavar)) + " ";
      if ((option.commands & command.bit) != 0) {
        EXPECT_NE(own.find(left), std::string::npos) << command.name << " lacks " << left;
      } else {
        EXPECT_EQ(own.find(left), std::string::npos) << command.name << " shows " << left;
      }
    }
  }
  for (const char* once : {"--namespace NS", "--creds USER", "--plain-http", "--password-stdin",
                           "--name NAME"}) {
    EXPECT_NE(full.find(once), std::string::npos) << once;
  }
  for (auto at = full.find("options:\n"); at != std::string::npos;
       at = full.find("options:\n", at + 1)) {
    EXPECT_EQ(full.substr(at + 9, 3), "  -") << full.substr(0, at + 9);
  }
}

TEST(ContctlArgs, HelpOfACommandAndVersion) {
  auto topic = parse({"help", "logs"});
  ASSERT_TRUE(topic) << topic.error().message;
  EXPECT_EQ(topic->command, Command::kHelp);
  EXPECT_EQ(topic->help_topic, "logs");
  auto flag = parse({"run", "--help"});
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->help_topic, "run");
  EXPECT_EQ(parse({"--help"})->help_topic, "");
  auto unknown = parse({"help", "frobnicate"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "help: unknown command 'frobnicate'");
  EXPECT_EQ(parse({"--version"})->command, Command::kVersion);
  EXPECT_EQ(parse({"ls", "--version"})->command, Command::kVersion);
  const auto ps = usage("ps");
  EXPECT_NE(ps.find("(ls and ps are the same command)"), std::string::npos) << ps;
  EXPECT_NE(ps.find("ps options:\n"), std::string::npos) << ps;
  EXPECT_NE(ps.find("options of every command:\n"), std::string::npos) << ps;
}

TEST(ContctlArgs, PsIsLsWithAllQuietFilterAndFormat) {
  auto ps = parse({"ps", "-a", "-q", "--no-trunc", "-n", "ns1", "--filter", "status=stopped",
                   "--filter=name=^web", "--format", "table {{.Name}}"});
  ASSERT_TRUE(ps) << ps.error().message;
  EXPECT_EQ(ps->command, Command::kList);
  EXPECT_TRUE(ps->all);
  EXPECT_TRUE(ps->quiet);
  EXPECT_TRUE(ps->no_trunc);
  EXPECT_EQ(ps->ns, "ns1");
  EXPECT_EQ(ps->filters, (std::vector<std::string>{"status=stopped", "name=^web"}));
  EXPECT_EQ(ps->format, "table {{.Name}}");
  auto ls = parse({"ls", "--all", "--quiet", "--format", "json"});
  ASSERT_TRUE(ls) << ls.error().message;
  EXPECT_TRUE(ls->all && ls->quiet);
  // A bad filter or template is a usage error before any call, naming it.
  auto key = parse({"ps", "--filter", "colour=red"});
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("unknown key 'colour'"), std::string::npos);
  auto field = parse({"ls", "--format", "{{.Colour}}"});
  ASSERT_FALSE(field);
  EXPECT_NE(field.error().message.find("unknown field '.Colour'"), std::string::npos);
  EXPECT_FALSE(parse({"inspect", "ns1", "web", "-a"}));
}

TEST(ContctlArgs, LogsTakeTailZeroTimestampsSinceAndUntil) {
  auto inv = parse({"logs", "demo", "web", "--tail", "0", "-t", "--since", "2026-12-05",
                    "--until", "2026-12-05T10:00:00+02:00"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_TRUE(inv->tail_given);
  EXPECT_EQ(inv->tail, 0U);
  EXPECT_TRUE(inv->timestamps);
  EXPECT_EQ(inv->since, 1'796'428'800LL * 1'000'000'000);               // midnight UTC
  EXPECT_EQ(inv->until, (1'796'428'800LL + 8 * 3600) * 1'000'000'000);  // 08:00 UTC
  EXPECT_FALSE(parse({"logs", "demo", "web"})->tail_given);
  // -t is --timestamps for logs, --tty for exec, --time for stop.
  EXPECT_TRUE(parse({"exec", "demo", "web", "-t", "--", "/bin/sh"})->tty);
  auto bad = parse({"logs", "demo", "web", "--until", "yesterday"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--until 'yesterday': expected a time"), std::string::npos);
}

TEST(ContctlOutput, TableColumnsAreAligned) {
  EXPECT_EQ(formatTable({{"NAMESPACE", "NAME"}, {"a", "web"}, {"longer-ns", "x"}}),
            "NAMESPACE   NAME\n"
            "a           web\n"
            "longer-ns   x\n");
  // An empty last cell leaves no trailing blanks.
  EXPECT_EQ(formatTable({{"A", "B"}, {"x", ""}}), "A   B\nx\n");
}

TEST(ContctlOutput, InspectShowsListsOnePerLine) {
  v1::ContainerInfo info;
  info.set_namespace_("demo");
  info.mutable_spec()->set_name("web");
  info.mutable_spec()->add_argv("/bin/sh");
  info.mutable_spec()->add_argv("-c");
  info.mutable_spec()->add_argv("echo hi");
  info.mutable_spec()->add_env("A=1");
  info.mutable_spec()->add_env("B=2");
  info.set_status(v1::ContainerInfo::STOPPED);
  info.set_exit_code(0);
  const auto text = formatInspect(info);
  EXPECT_NE(text.find("Command:             /bin/sh -c 'echo hi'\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Env:                 A=1\n                     B=2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Exit code:           0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Status:              stopped\n"), std::string::npos) << text;
}

TEST(ContctlOutput, UpdatePrintsTheLimitsAsInspectDoes) {
  v1::ContainerInfo info;
  info.mutable_spec()->set_cpu(2);
  info.mutable_spec()->set_memory_bytes(64 << 20);
  info.mutable_spec()->set_pids_limit(-1);
  EXPECT_EQ(formatLimits(info),
            "CPU:         2\n"
            "Memory:      67108864 (64 MiB)\n"
            "Pids limit:  unlimited\n");
  EXPECT_NE(formatInspect(info).find("Memory:              67108864 (64 MiB)\n"),
            std::string::npos);
}

TEST(ContctlOutput, InspectShowsTheRestartModeAndTheDesiredState) {
  v1::ContainerInfo info;
  info.mutable_spec()->set_name("job");
  info.mutable_spec()->mutable_restart()->set_mode(v1::RestartPolicy::ON_FAILURE);
  info.mutable_spec()->mutable_restart()->set_max_retries(3);
  info.set_desired_state(v1::ContainerInfo::DESIRED_STOPPED);
  auto text = formatInspect(info);
  EXPECT_NE(text.find("Restart:             on-failure:3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Desired state:       stopped\n"), std::string::npos) << text;
  info.mutable_spec()->mutable_restart()->set_mode(v1::RestartPolicy::NO);
  info.mutable_spec()->mutable_restart()->set_max_retries(0);
  info.mutable_spec()->set_auto_remove(true);
  text = formatInspect(info);
  EXPECT_NE(text.find("Restart:             no, removed on exit\n"), std::string::npos) << text;
}

TEST(ContctlOutput, InspectShowsLogHealth) {
  v1::ContainerInfo info;
  info.mutable_spec()->set_name("web");
  info.set_status(v1::ContainerInfo::RUNNING);
  info.set_log_writer_restarts(1);
  info.set_log_dropped_bytes(4096);
  const auto text = formatInspect(info);
  EXPECT_NE(text.find("Log restarts:        1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Log dropped bytes:   4096\n"), std::string::npos) << text;
}

TEST(ContctlOutput, InspectShowsImageUserAndSecurity) {
  v1::ContainerInfo info;
  info.mutable_spec()->set_name("web");
  info.mutable_spec()->set_image("docker.io/library/busybox:latest");
  info.mutable_spec()->set_user("app:staff");
  info.mutable_spec()->set_seccomp("unconfined");
  info.mutable_spec()->set_readonly_rootfs(true);
  const auto text = formatInspect(info);
  EXPECT_NE(text.find("Image:               docker.io/library/busybox:latest\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("Rootfs:"), std::string::npos) << text;
  EXPECT_NE(text.find("User:                app:staff\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Seccomp:             unconfined\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Read-only rootfs:    yes\n"), std::string::npos) << text;
  v1::ContainerInfo plain;
  plain.mutable_spec()->set_rootfs("/srv/web");
  const auto plain_text = formatInspect(plain);
  EXPECT_NE(plain_text.find("Rootfs:              /srv/web\n"), std::string::npos) << plain_text;
  EXPECT_NE(plain_text.find("User:                root\n"), std::string::npos) << plain_text;
  EXPECT_NE(plain_text.find("Seccomp:             default\n"), std::string::npos) << plain_text;
}

TEST(ContctlOutput, InspectShowsTheHealthCheckAndTheLastResult) {
  v1::ContainerInfo info;
  info.mutable_spec()->set_name("web");
  auto* check = info.mutable_spec()->mutable_health();
  check->add_argv("/bin/sh");
  check->add_argv("-c");
  check->add_argv("test -f /ok");
  check->set_interval_ms(1000);
  check->set_timeout_ms(500);
  check->set_retries(2);
  check->set_start_period_ms(60'000);
  auto text = formatInspect(info);
  EXPECT_NE(text.find("Health check:        /bin/sh -c 'test -f /ok'; every 1s, timeout 500ms, "
                      "retries 2, start period 1m\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Health:              -\n"), std::string::npos) << text;
  auto* health = info.mutable_health();
  health->set_status(v1::HealthState::UNHEALTHY);
  health->set_failing_streak(3);
  auto* last = health->add_log();
  last->mutable_start()->set_seconds(1'700'000'000);
  last->mutable_end()->set_seconds(1'700'000'001);
  last->set_exit_code(1);
  last->set_output("no /ok\nsecond line\n");
  text = formatInspect(info);
  EXPECT_NE(text.find("Health:              unhealthy, failing streak 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Last check:          2023-11-14T22:13:20Z code 1 (1000 ms)\n"
                      "                     no /ok\n"
                      "                     second line\n"),
            std::string::npos)
      << text;
  auto* exit = info.add_exits();
  exit->set_exit_code(143);
  exit->set_unhealthy(true);
  EXPECT_NE(formatInspect(info).find("code 143 (unhealthy)"), std::string::npos);
}

TEST(ContctlOutput, JsonUsesProtoFieldNames) {
  v1::ContainerInfo info;
  info.set_namespace_("demo");
  info.set_status(v1::ContainerInfo::RUNNING);
  const auto json = toJson(info);
  EXPECT_NE(json.find("\"namespace\": \"demo\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\": \"RUNNING\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"log_path\": \"\""), std::string::npos) << json;
  EXPECT_EQ(json.find("exit_code"), std::string::npos) << "unset optional stays absent";
}

// protobuf prints 64-bit integers as strings; contctl prints numbers, in lists and nested
// messages too, and keeps the fields in the .proto's order.
TEST(ContctlOutput, JsonPrints64BitIntegersAsNumbers) {
  v1::ListResponse list;
  auto* info = list.add_containers();
  info->mutable_spec()->set_memory_bytes(1ULL << 40);
  info->mutable_spec()->set_pids_limit(-1);
  info->set_log_dropped_bytes(18'446'744'073'709'551'615ULL);
  info->mutable_created_at()->set_seconds(1'700'000'000);
  const auto json = toJson(list, true);
  EXPECT_NE(json.find("\"memory_bytes\":1099511627776"), std::string::npos) << json;
  EXPECT_NE(json.find("\"pids_limit\":-1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"log_dropped_bytes\":18446744073709551615"), std::string::npos) << json;
  EXPECT_NE(json.find("\"created_at\":\"2023-11-14T22:13:20Z\""), std::string::npos) << json;
  EXPECT_LT(json.find("\"namespace\""), json.find("\"spec\"")) << json;
  EXPECT_TRUE(json.ends_with("}\n")) << json;
}

}  // namespace
}  // namespace contd::contctl
