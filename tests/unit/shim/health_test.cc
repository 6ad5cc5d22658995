#include "shim/health.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace contd::shim {
namespace {

TEST(ShimHealth, FormatIsOneJsonLine) {
  Health h;
  EXPECT_EQ(formatHealth(h),
            "{\"writer_restarts\":0,\"dropped_bytes\":0,\"dropped_records\":0,"
            "\"policy\":\"block\"}\n");
  h.writer_restarts = 2;
  h.dropped_bytes = 18446744073709551615ull;
  h.dropped_records = 7;
  h.policy = "drop";
  EXPECT_EQ(formatHealth(h),
            "{\"writer_restarts\":2,\"dropped_bytes\":18446744073709551615,"
            "\"dropped_records\":7,\"policy\":\"drop\"}\n");
}

TEST(ShimHealth, NumbersReadBack) {
  Health h{3, 4096, 12, "drop"};
  const std::string json = formatHealth(h);
  EXPECT_EQ(healthNumber(json, "writer_restarts"), 3u);
  EXPECT_EQ(healthNumber(json, "dropped_bytes"), 4096u);
  EXPECT_EQ(healthNumber(json, "dropped_records"), 12u);
  EXPECT_EQ(healthNumber(json, "policy"), std::nullopt);
  EXPECT_EQ(healthNumber(json, "missing"), std::nullopt);
  EXPECT_EQ(healthNumber("{\"dropped_bytes\":", "dropped_bytes"), std::nullopt);
}

TEST(ShimHealth, FileIsReplacedAtomically) {
  char tmpl[] = "/tmp/contd-health-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  const std::string path = (dir / ".web.log.health").string();
  ASSERT_TRUE(writeHealthFile(path, "first\n"));
  ASSERT_TRUE(writeHealthFile(path, "second\n"));
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "second\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_FALSE(writeHealthFile((dir / "missing" / "x").string(), "x"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace contd::shim
