// parseReference: docker's normalisation, hosts with ports, tags and digests, and the
// references it refuses (each error naming the field `ref`).

#include "modules/registry/reference.h"

#include <string>

#include <gtest/gtest.h>

namespace contd::registry {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

struct Normalised {
  const char* text;
  const char* host;
  const char* repository;
  const char* tag;
  const char* endpoint;
  const char* name;
};

TEST(Reference, NormalisesLikeDocker) {
  const Normalised table[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "registry-1.docker.io",
       "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "registry-1.docker.io",
       "docker.io/library/busybox:1.36"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "registry-1.docker.io",
       "docker.io/library/busybox:latest"},
      {"index.docker.io/library/busybox", "docker.io", "library/busybox", "latest",
       "registry-1.docker.io", "docker.io/library/busybox:latest"},
      {"grafana/grafana:10.0.0", "docker.io", "grafana/grafana", "10.0.0", "registry-1.docker.io",
       "docker.io/grafana/grafana:10.0.0"},
      {"ghcr.io/org/team/app:v1", "ghcr.io", "org/team/app", "v1", "ghcr.io",
       "ghcr.io/org/team/app:v1"},
      {"localhost/app", "localhost", "app", "latest", "localhost", "localhost/app:latest"},
      {"localhost:5000/app", "localhost:5000", "app", "latest", "localhost:5000",
       "localhost:5000/app:latest"},
      {"127.0.0.1:5000/test/two:1", "127.0.0.1:5000", "test/two", "1", "127.0.0.1:5000",
       "127.0.0.1:5000/test/two:1"},
      {"[::1]:5000/app:x", "[::1]:5000", "app", "x", "[::1]:5000", "[::1]:5000/app:x"},
      {"my-registry.example/a__b/c.d/e-f--g:Tag_1.x-y", "my-registry.example", "a__b/c.d/e-f--g",
       "Tag_1.x-y", "my-registry.example", "my-registry.example/a__b/c.d/e-f--g:Tag_1.x-y"},
  };
  for (const auto& row : table) {
    auto ref = parseReference(row.text);
    ASSERT_TRUE(ref.ok()) << row.text << ": " << ref.error().message;
    EXPECT_EQ(ref->host, row.host) << row.text;
    EXPECT_EQ(ref->repository, row.repository) << row.text;
    EXPECT_EQ(ref->tag, row.tag) << row.text;
    EXPECT_EQ(ref->digest, "") << row.text;
    EXPECT_EQ(ref->endpointHost(), row.endpoint) << row.text;
    EXPECT_EQ(ref->name(), row.name) << row.text;
    EXPECT_EQ(ref->manifestReference(), row.tag) << row.text;
  }
}

TEST(Reference, FirstComponentWithoutDotOrColonIsARepositoryPath) {
  auto ref = parseReference("library/busybox");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->host, "docker.io");
  EXPECT_EQ(ref->repository, "library/busybox");
}

TEST(Reference, DigestIsWhatIsFetched) {
  auto ref = parseReference("ghcr.io/org/app@" + kDigest);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->tag, "");
  EXPECT_EQ(ref->digest, kDigest);
  EXPECT_EQ(ref->manifestReference(), kDigest);
  EXPECT_EQ(ref->name(), "ghcr.io/org/app@" + kDigest);
}

TEST(Reference, TagAndDigestKeepBothAndFetchTheDigest) {
  auto ref = parseReference("localhost:5000/app:1@" + kDigest);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->host, "localhost:5000");
  EXPECT_EQ(ref->repository, "app");
  EXPECT_EQ(ref->tag, "1");
  EXPECT_EQ(ref->digest, kDigest);
  EXPECT_EQ(ref->manifestReference(), kDigest);
  EXPECT_EQ(ref->name(), "localhost:5000/app:1@" + kDigest);
}

TEST(Reference, BusyboxWithDigestIsOnDockerHub) {
  auto ref = parseReference("busybox@" + kDigest);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->name(), "docker.io/library/busybox@" + kDigest);
}

TEST(Reference, RefusesBadInputNamingRef) {
  const std::string bad[] = {
      "",
      "Foo",
      "docker.io/Library/busybox",
      "busybox:",
      "busybox:-x",
      "busybox:.x",
      "busybox:a/b",
      "busybox:" + std::string(129, 'a'),
      "busybox@sha256:abc",
      "busybox@sha256:" + std::string(64, 'A'),
      "busybox@md5:" + std::string(32, 'a'),
      "busybox@",
      "app/",
      "a//b",
      "/app",
      "localhost:5000/",
      "a-/b",
      "a..b",
      "a___b",
      "-a",
      "a b",
      "ex ample.com/app",
      "example.com:port/app",
      ":tag",
      "@" + kDigest,
      std::string(256, 'a'),
  };
  for (const auto& text : bad) {
    auto ref = parseReference(text);
    ASSERT_FALSE(ref.ok()) << "'" << text << "' was accepted as " << ref->name();
    EXPECT_EQ(ref.error().code, Code::kInvalidArgument) << text;
    EXPECT_EQ(ref.error().message.rfind("ref", 0), 0u) << ref.error().message;
  }
}

TEST(Reference, ErrorsSayWhatIsWrong) {
  auto upper = parseReference("Foo");
  ASSERT_FALSE(upper.ok());
  EXPECT_EQ(upper.error().message, "ref 'Foo': repository must be lower case");

  auto slash = parseReference("app/");
  ASSERT_FALSE(slash.ok());
  EXPECT_EQ(slash.error().message, "ref 'app/': empty path component");

  auto digest = parseReference("app@sha256:12");
  ASSERT_FALSE(digest.ok());
  EXPECT_NE(digest.error().message.find("digest"), std::string::npos) << digest.error().message;

  auto tag = parseReference("app:-1");
  ASSERT_FALSE(tag.ok());
  EXPECT_NE(tag.error().message.find("tag '-1'"), std::string::npos) << tag.error().message;
}

}  // namespace
}  // namespace contd::registry
