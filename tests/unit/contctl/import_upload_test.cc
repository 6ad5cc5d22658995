// contctl import: which paths contctl sends itself, and the progress line it draws.

#include "modules/contctl/import_upload.h"

#include <gtest/gtest.h>

namespace contd::contctl {
namespace {

TEST(ImportUpload, RelativePathsAndStdinAreSentAbsoluteOnesReadByContd) {
  EXPECT_TRUE(sentByContctl("-"));
  EXPECT_TRUE(sentByContctl("img.tar"));
  EXPECT_TRUE(sentByContctl("./img.tar"));
  EXPECT_TRUE(sentByContctl("../x/img.tar"));
  EXPECT_FALSE(sentByContctl("/srv/img.tar"));
}

TEST(ImportUpload, ProgressLineWithAKnownTotalHasABar) {
  EXPECT_EQ(uploadProgressLine(0, 4'000'000, 80),
            "sending 0B / 4MB  0% [>                                       ]");
  EXPECT_EQ(uploadProgressLine(1'000'000, 4'000'000, 80),
            "sending 1MB / 4MB  25% [==========>                             ]");
  EXPECT_EQ(uploadProgressLine(4'000'000, 4'000'000, 80),
            "sending 4MB / 4MB  100% [========================================]");
}

TEST(ImportUpload, ProgressLineFitsTheTerminal) {
  const std::string narrow = uploadProgressLine(1'000'000, 4'000'000, 30);
  EXPECT_EQ(narrow, "sending 1MB / 4MB  25%");  // no room for a bar
  EXPECT_LE(uploadProgressLine(1'000'000, 4'000'000, 10).size(), 10u);
  const std::string mid = uploadProgressLine(2'000'000, 4'000'000, 40);
  EXPECT_LE(mid.size(), 40u) << mid;
  EXPECT_NE(mid.find('['), std::string::npos) << mid;
}

TEST(ImportUpload, ProgressLineWithoutATotalCountsBytes) {
  EXPECT_EQ(uploadProgressLine(12'345'678, 0, 80), "sending 12.3MB");
}

}  // namespace
}  // namespace contd::contctl
