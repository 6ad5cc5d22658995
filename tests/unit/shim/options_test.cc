#include "shim/options.h"

#include <gtest/gtest.h>

namespace contd::shim {
namespace {

Result<Options> parse(std::vector<std::string_view> args, const char* ns = "prod",
                      const char* id = "web") {
  return parseOptions(args, ns, id);
}

TEST(ShimOptions, ParsesPairsInAnyOrder) {
  auto a = parse({"log_root", "/var/log/contd", "max_size", "1000", "max_files", "5"});
  auto b = parse({"max_files", "5", "log_root", "/var/log/contd", "max_size", "1000"});
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  for (const Options* o : {&*a, &*b}) {
    EXPECT_EQ(o->log_root, "/var/log/contd");
    EXPECT_EQ(o->max_size, 1000u);
    EXPECT_EQ(o->max_files, 5u);
    EXPECT_EQ(o->ns, "prod");
    EXPECT_EQ(o->id, "web");
    EXPECT_EQ(o->logPath(), "/var/log/contd/prod/web.log");
  }
}

TEST(ShimOptions, DefaultsForSizeAndFiles) {
  auto o = parse({"log_root", "/logs/"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->log_root, "/logs");  // trailing slash dropped
  EXPECT_EQ(o->max_size, 10u * 1024 * 1024);
  EXPECT_EQ(o->max_files, 3u);
  EXPECT_EQ(o->nsDir(), "/logs/prod");
}

TEST(ShimOptions, ZeroMaxSizeMeansNoRotation) {
  auto o = parse({"log_root", "/l", "max_size", "0", "max_files", "0"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->max_size, 0u);
  EXPECT_EQ(o->max_files, 0u);
}

TEST(ShimOptions, RefusesMissingLogRoot) {
  auto o = parse({"max_size", "10"});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, Code::kInvalidArgument);
  EXPECT_NE(o.error().message.find("log_root: missing"), std::string::npos);
  EXPECT_FALSE(parse({}));
}

TEST(ShimOptions, RefusesBadLogRoot) {
  for (std::string_view root : {"relative/dir", "", "/a/../etc", "/a/./b", "/.."}) {
    auto o = parse({"log_root", root});
    EXPECT_FALSE(o) << root;
  }
  EXPECT_TRUE(parse({"log_root", "/a/..b/c."}));  // only whole '.'/'..' components are bad
}

TEST(ShimOptions, RefusesUnknownRepeatedOrOddArguments) {
  auto unknown = parse({"log_root", "/l", "max-size", "1"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown argument 'max-size'"), std::string::npos);
  auto twice = parse({"log_root", "/l", "log_root", "/m"});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("given twice"), std::string::npos);
  EXPECT_FALSE(parse({"log_root"}));
}

TEST(ShimOptions, RefusesBadNumbers) {
  for (std::string_view v : {"", "-1", "+1", "1k", " 1", "0x10", "99999999999999999999"}) {
    EXPECT_FALSE(parse({"log_root", "/l", "max_size", v})) << v;
  }
  EXPECT_FALSE(parse({"log_root", "/l", "max_files", "1001"}));
  EXPECT_TRUE(parse({"log_root", "/l", "max_files", "1000"}));
}

TEST(ShimOptions, RefusesBadNames) {
  for (const char* name : {"", "a..b", ".a", "a.", "a/b", "..", "a b", "_a", "a-"}) {
    EXPECT_FALSE(parse({"log_root", "/l"}, name, "web")) << "ns " << name;
    EXPECT_FALSE(parse({"log_root", "/l"}, "prod", name)) << "id " << name;
  }
  EXPECT_FALSE(parse({"log_root", "/l"}, nullptr, "web"));
  EXPECT_FALSE(parse({"log_root", "/l"}, "prod", nullptr));
  const std::string long_name(65, 'a');
  EXPECT_FALSE(parse({"log_root", "/l"}, "prod", long_name.c_str()));
  const std::string max_name(64, 'a');
  EXPECT_TRUE(parse({"log_root", "/l"}, "prod", max_name.c_str()));
  auto bad = parse({"log_root", "/l"}, "prod", "../x");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("CONTAINER_ID"), std::string::npos);
}

TEST(ShimOptions, ValidNames) {
  for (std::string_view name : {"a", "web", "a.b-c_d", "A1", "x-1.2"}) {
    EXPECT_TRUE(isValidName(name)) << name;
  }
}

}  // namespace
}  // namespace contd::shim

namespace contd::shim {
namespace {

TEST(ShimOptions, PolicyAndRate) {
  auto d = parse({"log_root", "/l"});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->policy, Policy::kBlock);
  EXPECT_EQ(d->rate, kDefaultRate);
  EXPECT_EQ(d->healthPath(), "/l/prod/.web.log.health");
  auto o = parse({"policy", "drop", "log_root", "/l", "rate", "4096"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->policy, Policy::kDrop);
  EXPECT_EQ(o->rate, 4096u);
  EXPECT_FALSE(parse({"log_root", "/l", "policy", "lossy"}));
  EXPECT_FALSE(parse({"log_root", "/l", "rate", "0"}));
  EXPECT_FALSE(parse({"log_root", "/l", "rate", "-1"}));
  EXPECT_FALSE(parse({"log_root", "/l", "policy", "drop", "policy", "block"}));
}

}  // namespace
}  // namespace contd::shim
