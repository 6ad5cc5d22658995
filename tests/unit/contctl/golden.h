#pragma once
// Golden files of contctl's output under tests/fixtures/contctl. CONTD_UPDATE_GOLDEN=1
// rewrites them from the output (then review the diff before committing).

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace contd::contctl::testing {

inline void expectGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(CONTD_CONTCTL_GOLDEN_DIR) + "/" + name;
  if (std::getenv("CONTD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "no golden file " << path << " (CONTD_UPDATE_GOLDEN=1 writes it)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "differs from " << path;
}

}  // namespace contd::contctl::testing
