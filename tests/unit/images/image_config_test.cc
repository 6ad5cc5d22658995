// parseImageConfig's creation time: the config's top-level "created", 0 when absent or
// unreadable (ImageInfo.created then falls back to containerd's record).

#include "modules/images/import_plan.h"

#include <gtest/gtest.h>

namespace contd::images {
namespace {

TEST(ImageConfigCreated, IsTheConfigsCreatedInNanoseconds) {
  auto config = parseImageConfig(
      R"({"created": "2020-01-02T03:04:05.5Z", "rootfs": {"diff_ids": []}})", nullptr);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->created_ns, 1577934245'500'000'000LL);
}

TEST(ImageConfigCreated, IsZeroWhenMissingOrUnreadable) {
  for (const char* text : {R"({"rootfs": {"diff_ids": []}})",
                           R"({"created": "yesterday", "rootfs": {"diff_ids": []}})",
                           R"({"created": 5, "rootfs": {"diff_ids": []}})"}) {
    auto config = parseImageConfig(text, nullptr);
    ASSERT_TRUE(config) << text << ": " << config.error().message;
    EXPECT_EQ(config->created_ns, 0) << text;
  }
}

}  // namespace
}  // namespace contd::images
