#pragma once
// Prerequisites of integration tests, and how a missing one is reported.
//
// On a developer machine a test whose prerequisites are missing is skipped, and says why.
// In CI (environment CI=true) the same test fails: CI is supposed to provide everything,
// and a test that silently skips there proves nothing.

#include <gtest/gtest.h>

#include <string>

namespace contd::testing {

// True when the environment variable CI is exactly "true".
bool isCi();

// What the containerd integration tests need and this machine lacks, as one line
// ("root (geteuid()==0), runc on PATH"); empty when nothing is missing. Checks: root, the
// containerd, containerd-shim-runc-v2, runc and ip programs on PATH, and a static busybox
// at /bin/busybox (package busybox-static).
std::string missingContainerdPrerequisites();

// What the zbus tests need on top: a redis-server program on PATH (package redis-server).
// Empty when present.
std::string missingRedisPrerequisites();

}  // namespace contd::testing

// Skips the current test (GTEST_SKIP) with `msg` when `cond` is false, or fails it when
// CI=true. Use in a test body or SetUp(); it returns from the enclosing void function.
#define CONTD_REQUIRE_OR_SKIP(cond, msg)                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      if (::contd::testing::isCi()) {                                                    \
        GTEST_FAIL() << "missing prerequisite (CI=true, so this is a failure): " << msg; \
      } else {                                                                           \
        GTEST_SKIP() << msg;                                                             \
      }                                                                                  \
    }                                                                                    \
  } while (0)
