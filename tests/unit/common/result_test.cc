#include "modules/common/result.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace contd {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) {
    return invalidArgument("n: odd");
  }
  return n / 2;
}

Status quarter(int n, int* out) {
  auto h = half(n);
  CONTD_RETURN_IF_ERROR(h);
  auto q = half(*h);
  CONTD_RETURN_IF_ERROR(q);
  *out = *q;
  return okStatus();
}

TEST(Result, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "n: odd");
}

TEST(Result, ReturnIfErrorPropagatesTheFirstError) {
  int out = 0;
  EXPECT_TRUE(quarter(8, &out));
  EXPECT_EQ(out, 2);
  auto failed = quarter(6, &out);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "n: odd");
}

TEST(Error, WrapKeepsCodeAndPrefixesContext) {
  auto e = notFound("container \"x\": not found").wrap("delete 'x'");
  EXPECT_EQ(e.code, Code::kNotFound);
  EXPECT_EQ(e.message, "delete 'x': container \"x\": not found");
}

TEST(Error, SysErrorKeepsErrnoText) {
  auto e = sysError("open '/nope'", ENOENT);
  EXPECT_EQ(e.code, Code::kNotFound);
  EXPECT_EQ(e.message, "open '/nope': No such file or directory");
  EXPECT_EQ(sysError("write", ENOSPC).code, Code::kInternal);
}

}  // namespace
}  // namespace contd
