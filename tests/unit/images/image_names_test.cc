// findImage and checkImageName (docs/decisions/image-names.md): a name as given first, then
// its normalised form; names that exist keep working; import names must be references.

#include "modules/images/image_names.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_image_store.h"

namespace contd::images {
namespace {

class ImageNamesTest : public ::testing::Test {
protected:
  void add(const std::string& name) {
    ImageInfo info;
    info.name = name;
    info.chain_id = "sha256:" + name;
    store_.addImage("ns1", info);
  }
  std::string found(const std::string& name) {
    auto image = findImage(store_, "ns1", name);
    return image ? image->name : "error: " + image.error().message;
  }
  contd::testing::FakeImageStore store_;
};

TEST_F(ImageNamesTest, APulledImageIsFoundWithoutItsDefaultTagOrHost) {
  add("127.0.0.1:15120/ux/busybox:latest");
  add("docker.io/library/busybox:latest");
  EXPECT_EQ(found("127.0.0.1:15120/ux/busybox"), "127.0.0.1:15120/ux/busybox:latest");
  EXPECT_EQ(found("127.0.0.1:15120/ux/busybox:latest"), "127.0.0.1:15120/ux/busybox:latest");
  EXPECT_EQ(found("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(found("library/busybox:latest"), "docker.io/library/busybox:latest");
}

TEST_F(ImageNamesTest, ImportedNamesAreFoundAsTheyAreEvenWhenANormalisedOneExists) {
  add("ctl/named:1");
  add("named");
  add("docker.io/library/named:latest");
  EXPECT_EQ(found("ctl/named:1"), "ctl/named:1");
  EXPECT_EQ(found("named"), "named") << "the exact name wins over the normalised one";
  EXPECT_EQ(found("named:latest"), "docker.io/library/named:latest");
  add("Odd Name");  // not a reference at all: still found exactly
  EXPECT_EQ(found("Odd Name"), "Odd Name");
}

TEST_F(ImageNamesTest, AMissingImageIsNotFoundNamingBothForms) {
  auto image = findImage(store_, "ns1", "127.0.0.1:15120/ux/nothing");
  ASSERT_FALSE(image);
  EXPECT_EQ(image.error().code, Code::kNotFound);
  EXPECT_EQ(image.error().message,
            "image '127.0.0.1:15120/ux/nothing' in 'ns1': not found (nor as "
            "'127.0.0.1:15120/ux/nothing:latest')");
  auto odd = findImage(store_, "ns1", "Not A Ref");
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code, Code::kNotFound);
}

TEST(ImageNameCheck, AnImportNameMustBeAReferenceNamedAsTheField) {
  EXPECT_TRUE(checkImageName("name", ""));
  EXPECT_TRUE(checkImageName("name", "ctl/named:1"));
  EXPECT_TRUE(checkImageName("name", "named"));
  EXPECT_TRUE(checkImageName("name", "127.0.0.1:5000/a/b@sha256:" + std::string(64, 'a')));
  auto bad = checkImageName("name", "Bad Name");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad.error().message.rfind("name 'Bad Name': ", 0), 0u) << bad.error().message;
  EXPECT_FALSE(checkImageName("name", "a:b:c"));
}

TEST(ImageNameCheck, NormalisedNames) {
  EXPECT_EQ(normalisedImageName("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(normalisedImageName("ctl/named:1"), "docker.io/ctl/named:1");
  EXPECT_EQ(normalisedImageName("localhost:5000/app"), "localhost:5000/app:latest");
  EXPECT_EQ(normalisedImageName("Bad Name"), "");
}

}  // namespace
}  // namespace contd::images
