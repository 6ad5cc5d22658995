// contctl images: the table of one namespace or of several, pinned by golden files.

#include "modules/contctl/image_list.h"

#include <gtest/gtest.h>

#include "tests/unit/contctl/golden.h"

namespace contd::contctl {
namespace {

using testing::expectGolden;

// The golden files' "now": 2026-12-05T12:00:00Z.
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1796472000));

google::protobuf::Timestamp secondsBefore(std::int64_t seconds) {
  google::protobuf::Timestamp time;
  time.set_seconds(std::chrono::duration_cast<std::chrono::seconds>(kNow.time_since_epoch())
                       .count() -
                   seconds);
  return time;
}

std::vector<NamespaceImages> sample() {
  std::vector<NamespaceImages> lists(2);
  lists[0].ns = "demo";
  auto* busybox = lists[0].images.add_images();
  busybox->set_name("docker.io/library/busybox:latest");
  busybox->set_digest("sha256:" + std::string(64, 'a'));
  busybox->set_size(2'159'876);
  *busybox->mutable_created() = secondsBefore(2 * 3600);
  auto* app = lists[0].images.add_images();
  app->set_name("127.0.0.1:5000/app:1");
  app->set_digest("sha256:0123456789abcdef" + std::string(48, '0'));
  app->set_size(123'456'789);
  *app->mutable_created() = secondsBefore(400 * 24 * 3600);
  lists[1].ns = "prod";
  auto* tiny = lists[1].images.add_images();
  tiny->set_name("tiny:1");
  tiny->set_digest("sha256:" + std::string(64, 'f'));
  tiny->set_size(912);  // no creation time: "-"
  return lists;
}

TEST(ContctlImages, TablesGolden) {
  expectGolden("images.txt", formatImages(sample(), true, false, kNow));
  expectGolden("images-n-no-trunc.txt", formatImages({sample()[0]}, false, true, kNow));
}

TEST(ContctlImages, EmptyListPrintsTheHeaderOnly) {
  EXPECT_EQ(formatImages({}, false, false, kNow), "NAME   DIGEST   CREATED   SIZE\n");
  EXPECT_EQ(formatImages({NamespaceImages{"demo", {}}}, true, false, kNow),
            "NAMESPACE   NAME   DIGEST   CREATED   SIZE\n");
}

TEST(ContctlImages, QuietPrintsNames) {
  EXPECT_EQ(imageNames(sample()),
            "docker.io/library/busybox:latest\n127.0.0.1:5000/app:1\ntiny:1\n");
}

}  // namespace
}  // namespace contd::contctl
