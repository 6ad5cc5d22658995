// What a pull makes of a registry's answers: the platform's manifest in an index, the
// config and layers of a manifest, and the errors for what contd cannot use.

#include "modules/images/pull_plan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace contd::images {
namespace {

using json = nlohmann::json;

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');
const std::string kDigestC = "sha256:" + std::string(64, 'c');

json entry(const std::string& arch, const std::string& digest,
           const std::string& media_type = "application/vnd.oci.image.manifest.v1+json") {
  return {{"mediaType", media_type},
          {"digest", digest},
          {"size", 123},
          {"platform", {{"os", "linux"}, {"architecture", arch}}}};
}

TEST(PullPlan, IndexMediaTypes) {
  EXPECT_TRUE(isIndexMediaType("application/vnd.oci.image.index.v1+json"));
  EXPECT_TRUE(isIndexMediaType("application/vnd.docker.distribution.manifest.list.v2+json"));
  EXPECT_FALSE(isIndexMediaType("application/vnd.oci.image.manifest.v1+json"));
}

TEST(PullPlan, PicksThisNodesPlatformFromAnIndex) {
  const json index = {{"schemaVersion", 2},
                      {"manifests", {entry("arm64", kDigestA), entry(kPlatformArch, kDigestB)}}};
  auto chosen = selectPlatformManifest(index.dump(), "pull 'x'");
  ASSERT_TRUE(chosen) << chosen.error().message;
  EXPECT_EQ(chosen->digest, kDigestB);
  EXPECT_EQ(chosen->size, 123u);
  EXPECT_EQ(chosen->media_type, "application/vnd.oci.image.manifest.v1+json");
}

TEST(PullPlan, AnIndexWithoutThisPlatformNamesWhatItHas) {
  const json index = {{"manifests", {entry("arm64", kDigestA), entry("s390x", kDigestB)}}};
  auto chosen = selectPlatformManifest(index.dump(), "pull 'x'");
  ASSERT_FALSE(chosen);
  EXPECT_EQ(chosen.error().code, Code::kInvalidArgument);
  EXPECT_EQ(chosen.error().message,
            std::string("pull 'x': no manifest for platform linux/") + kPlatformArch +
                " (the image has linux/arm64, linux/s390x)");
}

TEST(PullPlan, IndexErrors) {
  EXPECT_FALSE(selectPlatformManifest("{not json", "pull 'x'"));
  EXPECT_FALSE(selectPlatformManifest(R"({"manifests": 3})", "pull 'x'"));
  const json bad_digest = {{"manifests", {entry(kPlatformArch, "sha256:short")}}};
  auto chosen = selectPlatformManifest(bad_digest.dump(), "pull 'x'");
  ASSERT_FALSE(chosen);
  EXPECT_NE(chosen.error().message.find("sha256:short"), std::string::npos);
}

PlannedBlob manifestOf(const json& body) {
  PlannedBlob blob;
  blob.media_type = "application/vnd.oci.image.manifest.v1+json";
  blob.digest = kDigestC;
  blob.data = body.dump();
  blob.size = blob.data.size();
  return blob;
}

TEST(PullPlan, ReadsConfigAndLayersOfAManifest) {
  const json body = {
      {"schemaVersion", 2},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", kDigestA},
        {"size", 10}}},
      {"layers",
       {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", kDigestB},
         {"size", 20}},
        {{"mediaType", "application/vnd.docker.image.rootfs.diff.tar"}, {"digest", kDigestC},
         {"size", 30}}}}};
  auto plan = planFromManifest(manifestOf(body), "pull 'x'");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->manifest.digest, kDigestC);
  EXPECT_EQ(plan->config.digest, kDigestA);
  EXPECT_EQ(plan->config.size, 10u);
  ASSERT_EQ(plan->layers.size(), 2u);
  EXPECT_EQ(plan->layers[0].digest, kDigestB);
  EXPECT_EQ(plan->layers[1].media_type, "application/vnd.docker.image.rootfs.diff.tar");
  EXPECT_TRUE(plan->layers[0].data.empty());  // fetched later, never held in memory
}

// Found by fuzz_image_manifest: a float size beyond uint64 was cast (undefined behaviour).
TEST(PullPlan, ADescriptorSizeMustBeANonNegativeInteger) {
  for (const json& size : {json(3.3e22), json(-1), json(1.5), json("20")}) {
    const json body = {
        {"config", {{"mediaType", "x"}, {"digest", kDigestA}, {"size", size}}},
        {"layers",
         {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", kDigestB},
           {"size", 20}}}}};
    auto plan = planFromManifest(manifestOf(body), "pull 'x'");
    ASSERT_FALSE(plan) << size.dump();
    EXPECT_NE(plan.error().message.find("size is not a non-negative integer"), std::string::npos)
        << plan.error().message;
  }
}

TEST(PullPlan, RefusesLayersContdCannotUnpack) {
  const json body = {
      {"config", {{"mediaType", "x"}, {"digest", kDigestA}, {"size", 10}}},
      {"layers",
       {{{"mediaType", "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
         {"digest", kDigestB},
         {"size", 20}}}}};
  auto plan = planFromManifest(manifestOf(body), "pull 'x'");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, Code::kInvalidArgument);
  EXPECT_NE(plan.error().message.find("nondistributable"), std::string::npos)
      << plan.error().message;
}

TEST(PullPlan, ManifestWithoutConfigOrLayers) {
  auto plan = planFromManifest(manifestOf(json{{"schemaVersion", 2}}), "pull 'x'");
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("no config or layers"), std::string::npos);
  PlannedBlob not_json;
  not_json.digest = kDigestC;
  not_json.data = "[1,";
  EXPECT_FALSE(planFromManifest(not_json, "pull 'x'"));
}

}  // namespace
}  // namespace contd::images

namespace contd::images {
namespace {

TEST(ImageInfoOfAPlan, SumsSizesAndTakesTheTopChainId) {
  ImportPlan plan;
  plan.manifest = {"application/vnd.oci.image.manifest.v1+json", kDigestC, 100, "", ""};
  plan.config = {"application/vnd.oci.image.config.v1+json", kDigestA, 10, "", ""};
  plan.layers = {{"t", kDigestB, 1000, "", ""}, {"t", kDigestA, 5, "", ""}};
  plan.diff_ids = {kDigestA, kDigestB};
  plan.image_config.cmd = {"/bin/sh"};
  const ImageInfo info = imageInfo("app:1", plan);
  EXPECT_EQ(info.name, "app:1");
  EXPECT_EQ(info.manifest_digest, kDigestC);
  EXPECT_EQ(info.media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(info.config_digest, kDigestA);
  EXPECT_EQ(info.size, 1115u);
  EXPECT_EQ(info.diff_ids, plan.diff_ids);
  EXPECT_EQ(info.chain_id, chainIds(plan.diff_ids).back());
  EXPECT_EQ(info.config.cmd, std::vector<std::string>{"/bin/sh"});
}

}  // namespace
}  // namespace contd::images
