// The OCI runtime's version as the Version call reports it (modules/daemon/runtime_version.h):
// parsing runc's and crun's --version output, and running a program for real.

#include "modules/daemon/runtime_version.h"

#include <gtest/gtest.h>

namespace contd::daemon {
namespace {

using std::chrono::milliseconds;

TEST(RuntimeVersion, ParsesRuncAndCrun) {
  auto runc = parseRuntimeVersion(
      "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\n");
  ASSERT_TRUE(runc) << runc.error().message;
  EXPECT_EQ(*runc, "1.1.5+ds1");
  auto crun = parseRuntimeVersion("crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun\n");
  ASSERT_TRUE(crun) << crun.error().message;
  EXPECT_EQ(*crun, "1.8.1");
}

TEST(RuntimeVersion, KeepsAFirstLineWithoutTheWordVersion) {
  auto other = parseRuntimeVersion("  youki 0.3.0  \nmore\n");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(*other, "youki 0.3.0");
  EXPECT_FALSE(parseRuntimeVersion(""));
  EXPECT_FALSE(parseRuntimeVersion("\nrunc version 1\n"));
}

TEST(RuntimeVersion, RunsTheProgramAndNamesItWhenItFails) {
  // coreutils' true answers --version (exit 0), false prints it and exits 1.
  auto found = readRuntimeVersion("true", milliseconds(2000));
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->rfind("true (GNU coreutils) ", 0), 0U) << *found;
  auto missing = readRuntimeVersion("/nonexistent/runc", milliseconds(2000));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("runtime '/nonexistent/runc' --version"),
            std::string::npos)
      << missing.error().message;
  auto failing = readRuntimeVersion("false", milliseconds(2000));
  ASSERT_FALSE(failing);
  EXPECT_NE(failing.error().message.find("runtime 'false' --version: exit status 1"),
            std::string::npos)
      << failing.error().message;
}

TEST(RuntimeVersion, CachesPerRuntime) {
  RuntimeVersions versions;
  auto first = versions.of("false");
  auto second = versions.of("false");
  ASSERT_FALSE(first);
  ASSERT_FALSE(second);
  EXPECT_EQ(first.error().message, second.error().message);
}

}  // namespace
}  // namespace contd::daemon
