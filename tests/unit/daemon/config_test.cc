// The daemon's configuration: defaults, the JSON file (strict: unknown keys and wrong types
// are named by their JSON pointer) and flags overriding the file.

#include "modules/daemon/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

namespace contd::daemon {
namespace {

namespace fs = std::filesystem;

Result<Flags> flags(std::vector<std::string_view> args) { return parseFlags(args); }

class ConfigFile {
public:
  explicit ConfigFile(const std::string& text)
      : path_(fs::temp_directory_path() /
              ("contd-config-test-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json")) {
    std::ofstream(path_) << text;
  }
  ~ConfigFile() { fs::remove(path_); }
  std::string path() const { return path_.string(); }

private:
  fs::path path_;
};

TEST(Config, Defaults) {
  const Config config;
  EXPECT_EQ(config.containerd_socket, "/run/containerd/containerd.sock");
  EXPECT_EQ(config.listen, "/run/contd/contd.sock");
  EXPECT_EQ(config.socket_group, "");
  EXPECT_EQ(config.log_root, "/var/log/contd");
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.default_shutdown_timeout_ms, 3000U);
  EXPECT_EQ(config.task_create_timeout_ms, 30000U);
  EXPECT_EQ(config.default_pids_limit, 4096);

  // No flags, no file: the defaults.
  auto resolved = resolveConfig(Flags{});
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(*resolved, config);
}

TEST(Config, FileSetsEveryKey) {
  auto config = parseConfig(R"({
    "containerd_socket": "/tmp/c.sock",
    "listen": "/tmp/contd.sock",
    "socket_group": "contd",
    "log_root": "/srv/logs",
    "log_level": "debug",
    "default_shutdown_timeout_ms": 10000,
    "task_create_timeout_ms": 5000,
    "default_pids_limit": -1
  })");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->containerd_socket, "/tmp/c.sock");
  EXPECT_EQ(config->listen, "/tmp/contd.sock");
  EXPECT_EQ(config->socket_group, "contd");
  EXPECT_EQ(config->log_root, "/srv/logs");
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->default_shutdown_timeout_ms, 10000U);
  EXPECT_EQ(config->task_create_timeout_ms, 5000U);
  EXPECT_EQ(config->default_pids_limit, -1);
}

TEST(Config, SeccompPrecompileIsOnByDefaultAndABool) {
  EXPECT_TRUE(Config{}.seccomp_precompile);
  auto off = parseConfig(R"({"seccomp_precompile": false})");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE(off->seccomp_precompile);
  auto refused = parseConfig(R"({"seccomp_precompile": "no"})");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.rfind("/seccomp_precompile", 0), 0u)
      << refused.error().message;
}

TEST(Config, KeysLeftOutKeepTheirDefaults) {
  auto config = parseConfig(R"({"log_level": "warn"})");
  ASSERT_TRUE(config) << config.error().message;
  Config expected;
  expected.log_level = "warn";
  EXPECT_EQ(*config, expected);
  EXPECT_TRUE(parseConfig("{}"));
}

TEST(Config, UnknownKeyIsRejectedWithItsPointer) {
  auto config = parseConfig(R"({"log_levle": "debug"})");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, Code::kInvalidArgument);
  EXPECT_EQ(config.error().message, "/log_levle: unknown key");

  auto escaped = parseConfig(R"({"a/b~c": 1})");
  ASSERT_FALSE(escaped);
  EXPECT_EQ(escaped.error().message, "/a~1b~0c: unknown key");
}

TEST(Config, WrongTypeIsRejectedWithItsPointer) {
  auto level = parseConfig(R"({"log_level": 3})");
  ASSERT_FALSE(level);
  EXPECT_EQ(level.error().message, "/log_level: expected string");

  auto timeout = parseConfig(R"({"task_create_timeout_ms": "30s"})");
  ASSERT_FALSE(timeout);
  EXPECT_EQ(timeout.error().message, "/task_create_timeout_ms: expected unsigned integer");

  auto negative = parseConfig(R"({"default_shutdown_timeout_ms": -5})");
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().message, "/default_shutdown_timeout_ms: expected unsigned integer");

  auto fraction = parseConfig(R"({"default_pids_limit": 1.5})");
  ASSERT_FALSE(fraction);
  EXPECT_EQ(fraction.error().message, "/default_pids_limit: expected integer");
}

// Found by fuzz_config: a number beyond a double made nlohmann throw out_of_range, which
// parseConfig let through (contd would have died on such a config file).
TEST(Config, NumberBeyondADoubleIsAnErrorNotAnException) {
  for (const char* text : {R"({"log_max_size": 3e4222})", R"({"x": -1e999})", "[1e400]"}) {
    auto config = parseConfig(text);
    ASSERT_FALSE(config) << text;
    EXPECT_EQ(config.error().code, Code::kInvalidArgument) << text;
    EXPECT_NE(config.error().message.find("number overflow"), std::string::npos)
        << config.error().message;
  }
}

TEST(Config, BadValuesAreRejectedWithTheirPointer) {
  auto level = parseConfig(R"({"log_level": "loud"})");
  ASSERT_FALSE(level);
  EXPECT_EQ(level.error().message.rfind("/log_level: must be one of", 0), 0U)
      << level.error().message;

  auto relative = parseConfig(R"({"log_root": "logs"})");
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().message.rfind("/log_root: must be an absolute path", 0), 0U);

  auto pids = parseConfig(R"({"default_pids_limit": 0})");
  ASSERT_FALSE(pids);
  EXPECT_EQ(pids.error().message.rfind("/default_pids_limit:", 0), 0U);

  auto zero = parseConfig(R"({"task_create_timeout_ms": 0})");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "/task_create_timeout_ms: must be greater than 0");
}

TEST(Config, LogPolicyAndRateLimit) {
  const Config defaults;
  EXPECT_EQ(defaults.log_policy, "block");
  EXPECT_EQ(defaults.log_rate_limit, 1024U * 1024U);
  auto config = parseConfig(R"({"log_policy": "drop", "log_rate_limit": 65536})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->log_policy, "drop");
  EXPECT_EQ(config->log_rate_limit, 65536U);

  auto policy = parseConfig(R"({"log_policy": "lossy"})");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().message, "/log_policy: must be block or drop, got 'lossy'");
  auto zero = parseConfig(R"({"log_rate_limit": 0})");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message.rfind("/log_rate_limit: must be greater than 0", 0), 0U);
}

TEST(Config, MalformedJsonAndNonObjectsAreRejected) {
  auto broken = parseConfig(R"({"log_level": )");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, Code::kInvalidArgument);
  EXPECT_NE(broken.error().message.find("parse error"), std::string::npos)
      << broken.error().message;

  auto array = parseConfig("[]");
  ASSERT_FALSE(array);
  EXPECT_EQ(array.error().message, "expected a JSON object at the top level");
}

TEST(Config, FileErrorsNameTheFile) {
  ConfigFile file(R"({"listen": false})");
  auto config = loadConfigFile(file.path());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message, file.path() + ": /listen: expected string");

  auto missing = loadConfigFile("/nonexistent/contd.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_NE(missing.error().message.find("/nonexistent/contd.json"), std::string::npos);
}

TEST(Config, FlagsOverrideTheFile) {
  ConfigFile file(R"({"listen": "/tmp/from-file.sock", "log_level": "debug",
                      "log_root": "/srv/file-logs"})");
  auto parsed = flags({"--config", file.path(), "--listen", "/tmp/from-flag.sock",
                       "--log-level=error", "--containerd", "/tmp/c.sock", "--socket-group",
                       "contd"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto config = resolveConfig(*parsed);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->listen, "/tmp/from-flag.sock");
  EXPECT_EQ(config->log_level, "error");
  EXPECT_EQ(config->log_root, "/srv/file-logs");  // not overridden: the file's value
  EXPECT_EQ(config->containerd_socket, "/tmp/c.sock");
  EXPECT_EQ(config->socket_group, "contd");
}

TEST(Config, BadFlagValuesNameTheFlag) {
  auto parsed = flags({"--log-level", "loud"});
  ASSERT_TRUE(parsed);
  auto config = resolveConfig(*parsed);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message.rfind("--log-level: must be one of", 0), 0U)
      << config.error().message;

  auto relative = resolveConfig(*flags({"--log-root", "logs"}));
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().message.rfind("--log-root: must be an absolute path", 0), 0U);
}

TEST(Flags, UsageErrors) {
  auto unknown = flags({"--bogus"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "unknown flag '--bogus'");

  auto missing = flags({"--listen"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "--listen: missing value");

  auto positional = flags({"extra"});
  ASSERT_FALSE(positional);
  EXPECT_EQ(positional.error().message, "unexpected argument 'extra'");

  auto valued_switch = flags({"--help=yes"});
  ASSERT_FALSE(valued_switch);
}

TEST(Flags, HelpAndVersion) {
  EXPECT_TRUE(flags({"--help"})->help);
  EXPECT_TRUE(flags({"-h"})->help);
  EXPECT_TRUE(flags({"--version"})->version);
  EXPECT_NE(usage().find("--containerd SOCK"), std::string::npos);
  EXPECT_NE(usage().find("default_pids_limit"), std::string::npos);
}

TEST(Config, ZbusBridgeIsOffByDefaultAndSetByFileOrFlags) {
  const Config defaults;
  EXPECT_EQ(defaults.broker, "");
  EXPECT_EQ(defaults.zbus_workers, 4U);

  auto config = parseConfig(R"({"broker": "unix:///var/run/redis.sock", "zbus_workers": 8})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->broker, "unix:///var/run/redis.sock");
  EXPECT_EQ(config->zbus_workers, 8U);

  auto parsed = flags({"--broker", "tcp://127.0.0.1:6379", "--zbus-workers=2"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto resolved = resolveConfig(*parsed);
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->broker, "tcp://127.0.0.1:6379");
  EXPECT_EQ(resolved->zbus_workers, 2U);
}

TEST(Config, PullParallelLayers) {
  auto defaults = parseConfig("{}");
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->pull_parallel_layers, 3U);
  auto six = parseConfig(R"({"pull_parallel_layers": 6})");
  ASSERT_TRUE(six) << six.error().message;
  EXPECT_EQ(six->pull_parallel_layers, 6U);
  auto zero = parseConfig(R"({"pull_parallel_layers": 0})");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "/pull_parallel_layers: must be between 1 and 16, got 0");
}

TEST(Config, BadZbusSettingsAreRejected) {
  auto scheme = parseConfig(R"({"broker": "redis://localhost:6379"})");
  ASSERT_FALSE(scheme);
  EXPECT_EQ(scheme.error().message.rfind("/broker: must be a zbus URL", 0), 0U)
      << scheme.error().message;
  auto zero = parseConfig(R"({"zbus_workers": 0})");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "/zbus_workers: must be between 1 and 64, got 0");
  auto text = resolveConfig(*flags({"--zbus-workers", "many"}));
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message, "--zbus-workers: expected unsigned integer, got 'many'");
  auto too_many = resolveConfig(*flags({"--zbus-workers", "65"}));
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().message, "--zbus-workers: must be between 1 and 64, got 65");
}

TEST(Config, AllowListOfHostFoldersAndElevated) {
  EXPECT_TRUE(Config{}.mount_sources.empty());
  EXPECT_TRUE(Config{}.allow_elevated);
  auto config = parseConfig(R"({"mount_sources": ["/srv/containers", "/var/lib/data"],
                                "allow_elevated": false})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->mount_sources,
            (std::vector<std::string>{"/srv/containers", "/var/lib/data"}));
  EXPECT_FALSE(config->allow_elevated);
  for (const char* bad : {R"({"mount_sources": "/srv"})", R"({"mount_sources": ["srv"]})",
                          R"({"mount_sources": [1]})", R"({"allow_elevated": "no"})"}) {
    auto refused = parseConfig(bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_TRUE(refused.error().message.rfind("/mount_sources", 0) == 0 ||
                refused.error().message.rfind("/allow_elevated", 0) == 0)
        << refused.error().message;
  }
}

TEST(Config, SeccompProfileAndStatusInterval) {
  EXPECT_EQ(Config{}.seccomp_profile, "builtin");  // confined without a config file
  EXPECT_EQ(Config{}.status_interval_ms, 10000U);
  auto config = parseConfig(R"({"seccomp_profile": "/etc/contd/seccomp.json",
                                "status_interval_ms": 2500})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->seccomp_profile, "/etc/contd/seccomp.json");
  EXPECT_EQ(config->status_interval_ms, 2500U);
  // No filter is an explicit choice.
  config = parseConfig(R"({"seccomp_profile": "unconfined"})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->seccomp_profile, "unconfined");

  for (const char* bad : {"seccomp.json", "", "Builtin"}) {
    auto refused = parseConfig(std::string(R"({"seccomp_profile": ")") + bad + "\"}");
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().message,
              std::string("/seccomp_profile: must be \"builtin\", \"unconfined\" or an absolute "
                          "path, got '") + bad + "'");
  }
  auto zero = parseConfig(R"({"status_interval_ms": 0})");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "/status_interval_ms: must be greater than 0");

  auto parsed = flags({"--seccomp-profile", "/srv/strict.json"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto resolved = resolveConfig(*parsed);
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->seccomp_profile, "/srv/strict.json");
}

TEST(Config, MetricsKeys) {
  auto config = parseConfig(R"({"metrics_textfile": "/var/lib/prometheus/node-exporter/contd.prom",
                                "metrics_listen": "127.0.0.1:9101"})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->metrics_textfile, "/var/lib/prometheus/node-exporter/contd.prom");
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:9101");
  EXPECT_TRUE(parseConfig(R"({"metrics_listen": "unix:/run/contd/metrics.sock"})"));
  EXPECT_TRUE(parseConfig(R"({"metrics_listen": "", "metrics_textfile": ""})"));
  EXPECT_EQ(Config{}.metrics_listen, "");
  EXPECT_EQ(Config{}.metrics_textfile, "");
}

TEST(Config, MetricsListenRefusesNonLoopbackNamingTheKey) {
  for (const char* bad : {"0.0.0.0:9101", "10.0.0.1:9101", "[::]:9101", "localhost:9101",
                          "127.0.0.1:99999", "unix:relative"}) {
    auto config = parseConfig(std::string(R"({"metrics_listen": ")") + bad + "\"}");
    ASSERT_FALSE(config) << bad;
    EXPECT_TRUE(config.error().message.starts_with("/metrics_listen: ")) << config.error().message;
  }
  auto any = parseConfig(R"({"metrics_listen": "0.0.0.0:9101"})");
  ASSERT_FALSE(any);
  EXPECT_NE(any.error().message.find("loopback"), std::string::npos) << any.error().message;
}

TEST(Config, MetricsTextfileMustBeAbsoluteDotProm) {
  for (const char* bad : {"contd.prom", "/var/lib/x/contd.txt", "/var/lib/x/"}) {
    auto config = parseConfig(std::string(R"({"metrics_textfile": ")") + bad + "\"}");
    ASSERT_FALSE(config) << bad;
    EXPECT_TRUE(config.error().message.starts_with("/metrics_textfile: "))
        << config.error().message;
  }
}

// The contd.json etc/ installs (rendered for the build tree) is valid and names every key
// the daemon knows, so docs/configuration.md and the file cannot drift from the code.
TEST(Config, ShippedConfigHasEveryKey) {
  auto config = loadConfigFile(CONTD_SHIPPED_CONFIG);
  ASSERT_TRUE(config) << config.error().message;
  std::ifstream in(CONTD_SHIPPED_CONFIG);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string help = usage();
  const std::string keys = help.substr(help.find("config file: a JSON object with the keys"));
  std::istringstream lines(keys);
  std::string line;
  std::getline(lines, line);  // the heading
  int count = 0;
  while (std::getline(lines, line)) {
    const std::string key = line.substr(line.find_first_not_of(' '));
    EXPECT_NE(text.find("\"" + key + "\":"), std::string::npos) << key << " missing";
    ++count;
  }
  EXPECT_GT(count, 10);
}

TEST(Config, LogFormatIsTextOrJsonFromFileOrFlag) {
  EXPECT_EQ(Config{}.log_format, "text");
  auto json = parseConfig(R"({"log_format": "json"})");
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(json->log_format, "json");
  auto bad = parseConfig(R"({"log_format": "yaml"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "/log_format: must be text or json, got 'yaml'");
  auto parsed = flags({"--log-format", "json"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto resolved = resolveConfig(*parsed);
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->log_format, "json");
  auto wrong = resolveConfig(*flags({"--log-format=xml"}));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message.rfind("--log-format: must be text or json", 0), 0U)
      << wrong.error().message;
}

// Info shows the config to anyone on the socket: the broker's Redis password is hidden.
TEST(Config, ConfigJsonCanHideTheBrokersPassword) {
  EXPECT_EQ(hideBrokerPassword("tcp://s3cret@10.0.0.1:6379"), "tcp://***@10.0.0.1:6379");
  EXPECT_EQ(hideBrokerPassword("tcp://user:p%40ss@host:6379"), "tcp://***@host:6379");
  EXPECT_EQ(hideBrokerPassword("unix://pw@/run/redis.sock"), "unix://***@/run/redis.sock");
  EXPECT_EQ(hideBrokerPassword("unix:///run/redis@x/redis.sock"), "unix:///run/redis@x/redis.sock");
  EXPECT_EQ(hideBrokerPassword("tcp://127.0.0.1:6379"), "tcp://127.0.0.1:6379");
  EXPECT_EQ(hideBrokerPassword(""), "");
  auto config = parseConfig(R"({"broker": "tcp://s3cret@10.0.0.1:6379"})");
  ASSERT_TRUE(config) << config.error().message;
  const std::string shown = configJson(*config, /*hide_secrets=*/true);
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_NE(shown.find("\"broker\": \"tcp://***@10.0.0.1:6379\""), std::string::npos) << shown;
  EXPECT_NE(configJson(*config).find("s3cret"), std::string::npos);
}

// Size keys take what contctl's --memory takes: bytes, or 64K, 512M, 1G (powers of 1024).
TEST(Config, SizeKeysAcceptUnits) {
  auto config = parseConfig(R"({"log_max_size": "512M", "log_rate_limit": "64K"})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->log_max_size, 512ULL << 20);
  EXPECT_EQ(config->log_rate_limit, 64ULL << 10);
  auto plain = parseConfig(R"({"log_max_size": 1048576, "log_rate_limit": "1g"})");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->log_max_size, 1048576U);
  EXPECT_EQ(plain->log_rate_limit, 1ULL << 30);
  auto digits = parseConfig(R"({"log_max_size": "2048"})");
  ASSERT_TRUE(digits) << digits.error().message;
  EXPECT_EQ(digits->log_max_size, 2048U);
}

TEST(Config, BadSizesAreRefusedNamingTheKey) {
  auto unit = parseConfig(R"({"log_max_size": "512MB"})");
  ASSERT_FALSE(unit);
  EXPECT_EQ(unit.error().message,
            "/log_max_size: expected a byte count such as 67108864, 512M or 2G, got '512MB'");
  auto negative = parseConfig(R"({"log_rate_limit": -1})");
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().message.rfind("/log_rate_limit: expected a byte count", 0), 0U)
      << negative.error().message;
  auto overflow = parseConfig(R"({"log_max_size": "99999999999T"})");
  ASSERT_FALSE(overflow);
  EXPECT_EQ(overflow.error().message.rfind("/log_max_size: expected a byte count", 0), 0U)
      << overflow.error().message;
  // The key's own rule still applies after the units.
  auto zero = parseConfig(R"({"log_rate_limit": "0K"})");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message.rfind("/log_rate_limit: must be greater than 0", 0), 0U)
      << zero.error().message;
  for (const char* bad : {R"({"log_max_size": ""})", R"({"log_max_size": "M"})",
                          R"({"log_max_size": " 1M"})", R"({"log_max_size": "1.5G"})",
                          R"({"log_max_size": true})"}) {
    auto refused = parseConfig(bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().message.rfind("/log_max_size: expected a byte count", 0), 0U)
        << refused.error().message;
  }
}

// The config in effect as Info shows it: every key of --help, in its order, and a JSON that
// reads back to the same Config.
TEST(Config, ConfigJsonHasEveryKeyAndReadsBackTheSame) {
  auto config = parseConfig(R"({"log_level": "debug", "mount_sources": ["/srv"],
                                "default_pids_limit": -1, "allow_elevated": false,
                                "log_max_size": 1234, "runtime": "crun"})");
  ASSERT_TRUE(config) << config.error().message;
  const std::string text = configJson(*config);
  auto again = parseConfig(text);
  ASSERT_TRUE(again) << again.error().message << "\n" << text;
  EXPECT_EQ(*again, *config) << text;
  EXPECT_NE(text.find("\"mount_sources\": [\n    \"/srv\"\n  ]"), std::string::npos) << text;
  EXPECT_NE(text.find("\"default_pids_limit\": -1"), std::string::npos) << text;

  const std::string help = usage();
  std::istringstream lines(help.substr(help.find("config file: a JSON object with the keys")));
  std::string line;
  std::getline(lines, line);  // the heading
  std::size_t at = 0;
  while (std::getline(lines, line)) {
    const std::string key = "\"" + line.substr(line.find_first_not_of(' ')) + "\":";
    const auto found = text.find(key);
    EXPECT_NE(found, std::string::npos) << key << " missing from " << text;
    EXPECT_GT(found, at) << key << " out of --help's order";
    at = found;
  }
  auto defaults = parseConfig(configJson(Config{}));
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(*defaults, Config{});
}

}  // namespace
}  // namespace contd::daemon
