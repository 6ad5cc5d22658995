#include "modules/container/container_spec.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace contd::container {
namespace {

using nlohmann::json;

ContainerSpec fullSpec() {
  ContainerSpec spec;
  spec.name = "web-1";
  spec.rootfs = "/var/cache/rootfs/web";
  spec.entrypoint = "/bin/sh -c 'exec nginx -g \"daemon off;\"'";
  spec.argv = {"/usr/sbin/nginx", "-g", "daemon off;"};
  spec.env = {"A=1", "B=two words", "EMPTY="};
  spec.working_dir = "/srv";
  spec.network_namespace = "ndmz";
  spec.mounts = {{"/data/a", "/a", false}, {"/data/b", "/mnt/b", true}};
  spec.interactive = true;
  spec.cpu = std::numeric_limits<std::uint32_t>::max();
  spec.memory_bytes = std::numeric_limits<std::uint64_t>::max();
  spec.pids_limit = std::numeric_limits<std::int64_t>::min();
  spec.hostname = "web.example";
  spec.tags = {"zos", "tag with ünïcode"};
  spec.elevated = true;
  spec.rootfs_propagation = "rslave";
  spec.shutdown_timeout = std::chrono::milliseconds(12345);
  spec.seccomp = "/etc/contd/strict.json";
  spec.readonly_rootfs = true;
  spec.image = "busybox:1";
  spec.user = "app:1000";
  return spec;
}

Error readError(const json& input) {
  auto spec = specFromJson(input);
  EXPECT_FALSE(spec.ok()) << input.dump();
  return spec ? Error{} : spec.error();
}

TEST(ContainerSpecJson, FullSpecRoundTripsThroughText) {
  const ContainerSpec spec = fullSpec();
  // Through a string, as the spec is stored in containerd as an annotation.
  auto back = specFromJson(json::parse(toJson(spec).dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, spec);
}

TEST(ContainerSpecJson, DefaultSpecRoundTrips) {
  auto back = specFromJson(json::parse(toJson(ContainerSpec{}).dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, ContainerSpec{});
}

TEST(ContainerSpecJson, SeccompAndReadonlyRootfsAreStored) {
  const json j = toJson(fullSpec());
  EXPECT_EQ(j.at("seccomp"), "/etc/contd/strict.json");
  EXPECT_EQ(j.at("readonly_rootfs"), true);
  // A record written before these fields existed reads with their defaults.
  json old = j;
  old.erase("seccomp");
  old.erase("readonly_rootfs");
  auto back = specFromJson(old);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->seccomp, "");
  EXPECT_FALSE(back->readonly_rootfs);
  old["readonly_rootfs"] = "yes";
  EXPECT_EQ(readError(old).message, "/readonly_rootfs: expected boolean");
}

TEST(ContainerSpecJson, UserIsStored) {
  const json j = toJson(fullSpec());
  EXPECT_EQ(j.at("user"), "app:1000");
  // A record written before the field existed runs as root, as it did.
  json old = j;
  old.erase("user");
  auto back = specFromJson(old);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->user, "");
  old["user"] = 1000;
  EXPECT_EQ(readError(old).message, "/user: expected string");
}

TEST(ContainerSpecJson, UsesSnakeCaseKeys) {
  const json j = toJson(fullSpec());
  EXPECT_EQ(j.at("working_dir"), "/srv");
  EXPECT_EQ(j.at("network_namespace"), "ndmz");
  EXPECT_EQ(j.at("memory_bytes"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(j.at("pids_limit"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(j.at("rootfs_propagation"), "rslave");
  EXPECT_EQ(j.at("shutdown_timeout_ms"), 12345);
  EXPECT_EQ(j.at("mounts").at(1),
            (json{{"source", "/data/b"}, {"target", "/mnt/b"}, {"readonly", true}}));
  EXPECT_FALSE(j.contains("shutdown_timeout"));
}

TEST(ContainerSpecJson, IgnoresUnknownKeysAndDefaultsMissingOnes) {
  json j = {{"name", "a"}, {"added_by_a_later_version", {1, 2, 3}}};
  auto spec = specFromJson(j);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ContainerSpec expected;
  expected.name = "a";
  EXPECT_EQ(*spec, expected);
}

TEST(ContainerSpecJson, NamesTheKeyOfTheWrongType) {
  json j = toJson(fullSpec());
  j["mounts"][1]["target"] = 5;
  EXPECT_EQ(readError(j).message, "/mounts/1/target: expected string");

  j = toJson(fullSpec());
  j["mounts"][0]["readonly"] = "yes";
  EXPECT_EQ(readError(j).message, "/mounts/0/readonly: expected boolean");

  j = toJson(fullSpec());
  j["mounts"][1] = "a:b";
  EXPECT_EQ(readError(j).message, "/mounts/1: expected object");

  j = toJson(fullSpec());
  j["env"][2] = nullptr;
  EXPECT_EQ(readError(j).message, "/env/2: expected string");

  j = toJson(fullSpec());
  j["argv"] = "/bin/sh";
  EXPECT_EQ(readError(j).message, "/argv: expected array of strings");

  j = toJson(fullSpec());
  j["name"] = json::array();
  EXPECT_EQ(readError(j).message, "/name: expected string");

  j = toJson(fullSpec());
  j["elevated"] = 1;
  EXPECT_EQ(readError(j).message, "/elevated: expected boolean");
}

TEST(ContainerSpecJson, RefusesNumbersThatDoNotFit) {
  json j = toJson(fullSpec());
  j["cpu"] = -1;
  EXPECT_EQ(readError(j).message, "/cpu: expected unsigned 32-bit integer");
  j["cpu"] = std::uint64_t{1} << 32;
  EXPECT_EQ(readError(j).message, "/cpu: expected unsigned 32-bit integer");
  j["cpu"] = 1.5;
  EXPECT_EQ(readError(j).message, "/cpu: expected unsigned 32-bit integer");

  j = toJson(fullSpec());
  j["memory_bytes"] = -4096;
  EXPECT_EQ(readError(j).message, "/memory_bytes: expected unsigned 64-bit integer");

  j = toJson(fullSpec());
  j["pids_limit"] = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(readError(j).message, "/pids_limit: expected signed 64-bit integer");
  j["pids_limit"] = "10";
  EXPECT_EQ(readError(j).message, "/pids_limit: expected signed 64-bit integer");

  j = toJson(fullSpec());
  j["shutdown_timeout_ms"] = 2.5;
  EXPECT_EQ(readError(j).message, "/shutdown_timeout_ms: expected signed 64-bit integer");
}

TEST(ContainerSpecJson, RefusesANonObjectWithoutThrowing) {
  for (const json& input : {json(nullptr), json(42), json("spec"), json::array({1})}) {
    auto spec = specFromJson(input);
    ASSERT_FALSE(spec.ok()) << input.dump();
    EXPECT_EQ(spec.error().code, Code::kInvalidArgument);
  }
}

TEST(ContainerStatus, HasStableNames) {
  EXPECT_EQ(containerStatusName(ContainerStatus::kUnknown), "unknown");
  EXPECT_EQ(containerStatusName(ContainerStatus::kCreated), "created");
  EXPECT_EQ(containerStatusName(ContainerStatus::kRunning), "running");
  EXPECT_EQ(containerStatusName(ContainerStatus::kStopped), "stopped");
}

}  // namespace
}  // namespace contd::container
