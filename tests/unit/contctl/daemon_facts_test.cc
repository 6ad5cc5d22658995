// contctl version and contctl info: their command line, and their output pinned by golden
// files in tests/fixtures/contctl (CONTD_UPDATE_GOLDEN=1 rewrites them).

#include "modules/contctl/daemon_facts.h"

#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/contctl/args.h"
#include "modules/contctl/template.h"
#include "tests/unit/contctl/golden.h"

namespace contd::contctl {
namespace {

v1::InfoResponse sampleInfo() {
  v1::InfoResponse info;
  auto* version = info.mutable_version();
  version->set_version("0.1.0");
  version->set_containerd_version("1.6.20~ds1");
  version->set_containerd_revision("1.6.20~ds1-1+deb12u3");
  version->set_runtime("crun");
  version->set_runtime_version("1.8.1");
  version->set_shim_group("namespace");
  auto* counts = info.mutable_containers();
  counts->set_total(5);
  counts->set_running(3);
  counts->set_stopped(1);
  counts->set_failed(1);
  info.set_namespaces(2);
  info.set_images(4);
  info.set_config_json(R"({"listen": "/run/contd/contd.sock", "socket_group": "",
    "log_max_size": 10485760, "mount_sources": ["/srv", "/var/lib/node"],
    "allow_elevated": true, "default_pids_limit": -1})");
  return info;
}

TEST(ContctlDaemonFacts, VersionAndInfoParse) {
  auto version = parseArgs(std::vector<std::string_view>{"version"}, std::nullopt);
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_EQ(version->command, Command::kDaemonVersion);
  // --version stays contctl's own, without asking contd.
  auto flag = parseArgs(std::vector<std::string_view>{"--version"}, std::nullopt);
  ASSERT_TRUE(flag) << flag.error().message;
  EXPECT_EQ(flag->command, Command::kVersion);

  auto info = parseArgs(std::vector<std::string_view>{"info", "--format", "{{.Running}}"},
                        std::nullopt);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->command, Command::kInfo);
  EXPECT_EQ(info->format, "{{.Running}}");

  auto bad = parseArgs(std::vector<std::string_view>{"info", "--format", "{{.Name}}"},
                       std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown field '.Name'"), std::string::npos)
      << bad.error().message;
  auto extra = parseArgs(std::vector<std::string_view>{"version", "x"}, std::nullopt);
  ASSERT_FALSE(extra);
  EXPECT_NE(extra.error().message.find("version: unexpected argument 'x'"), std::string::npos)
      << extra.error().message;
  EXPECT_FALSE(parseArgs(std::vector<std::string_view>{"version", "-a"}, std::nullopt));
}

TEST(ContctlDaemonFacts, VersionPrintsOursFirst) {
  const auto info = sampleInfo();
  testing::expectGolden("version.txt", formatVersion("0.1.0", info.version()));
  v1::VersionResponse down = info.version();
  down.clear_containerd_version();
  down.clear_containerd_revision();
  down.set_containerd_error("ask containerd for its version: connection refused");
  const std::string text = formatVersion("0.1.0", down);
  EXPECT_EQ(text.substr(0, text.find('\n')), "contctl 0.1.0");
  EXPECT_NE(text.find("\ncontainerd: ask containerd for its version: connection refused\n"),
            std::string::npos)
      << text;

  const auto json = nlohmann::ordered_json::parse(versionJson("0.1.0", info.version()));
  EXPECT_EQ(json.begin().key(), "contctl");
  EXPECT_EQ(json["contctl"], "0.1.0");
  EXPECT_EQ(json["runtime_version"], "1.8.1");
}

TEST(ContctlDaemonFacts, InfoSummaryAndTemplate) {
  const auto info = sampleInfo();
  testing::expectGolden("info.txt", formatInfo(info));
  auto parsed = Template::parse("{{.Running}}/{{.Containers}} {{.Runtime}} {{.RuntimeVersion}} "
                                "{{.Images}} {{.Namespaces}} {{.ShimGroup}}",
                                infoFields());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->render([&](std::string_view field) { return infoField(info, field); }),
            "3/5 crun 1.8.1 4 2 namespace\n");
}

}  // namespace
}  // namespace contd::contctl
