// contctl images: the table of one namespace or of several, pinned by golden files.

#include "modules/contctl/image_list.h"

#include <gtest/gtest.h>

#include "tests/unit/contctl/golden.h"

namespace contd::contctl {
namespace {

using testing::expectGolden;

std::vector<NamespaceImages> sample() {
  std::vector<NamespaceImages> lists(2);
  lists[0].ns = "demo";
  auto* busybox = lists[0].images.add_images();
  busybox->set_name("docker.io/library/busybox:latest");
  busybox->set_digest("sha256:" + std::string(64, 'a'));
  busybox->set_size(2'159'876);
  auto* app = lists[0].images.add_images();
  app->set_name("127.0.0.1:5000/app:1");
  app->set_digest("sha256:0123456789abcdef" + std::string(48, '0'));
  app->set_size(123'456'789);
  lists[1].ns = "prod";
  auto* tiny = lists[1].images.add_images();
  tiny->set_name("tiny:1");
  tiny->set_digest("sha256:" + std::string(64, 'f'));
  tiny->set_size(912);
  return lists;
}

TEST(ContctlImages, TablesGolden) {
  expectGolden("images.txt", formatImages(sample(), true, false));
  expectGolden("images-n-no-trunc.txt", formatImages({sample()[0]}, false, true));
}

TEST(ContctlImages, EmptyListPrintsTheHeaderOnly) {
  EXPECT_EQ(formatImages({}, false, false), "NAME   DIGEST   SIZE\n");
  EXPECT_EQ(formatImages({NamespaceImages{"demo", {}}}, true, false),
            "NAMESPACE   NAME   DIGEST   SIZE\n");
}

TEST(ContctlImages, QuietPrintsNames) {
  EXPECT_EQ(imageNames(sample()),
            "docker.io/library/busybox:latest\n127.0.0.1:5000/app:1\ntiny:1\n");
}

}  // namespace
}  // namespace contd::contctl
