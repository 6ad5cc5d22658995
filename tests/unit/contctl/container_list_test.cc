// contctl ls / ps: which containers -a and --filter keep, and the table, -q, --format and
// JSON output, pinned by golden files (tests/fixtures/contctl/ls*).

#include "modules/contctl/container_list.h"

#include <gtest/gtest.h>

#include "modules/contctl/output.h"
#include "tests/unit/contctl/golden.h"

namespace contd::contctl {
namespace {

using std::chrono::seconds;
using testing::expectGolden;

const std::chrono::system_clock::time_point kNow(seconds(1'800'000'000));

v1::ContainerInfo* add(v1::ListResponse& list, const std::string& ns, const std::string& name,
                       v1::ContainerInfo::Status status, std::int64_t age_seconds) {
  auto* info = list.add_containers();
  info->set_namespace_(ns);
  info->mutable_spec()->set_name(name);
  info->set_status(status);
  info->mutable_created_at()->set_seconds(1'800'000'000 - age_seconds);
  return info;
}

v1::ListResponse sample() {
  v1::ListResponse list;
  auto* web = add(list, "demo", "web", v1::ContainerInfo::RUNNING, 150);
  web->mutable_spec()->set_image("docker.io/library/busybox:latest");
  for (const char* arg : {"/bin/sh", "-c", "sleep 1000 && echo done"}) {
    web->mutable_spec()->add_argv(arg);
  }
  web->mutable_spec()->add_tags("app=web");
  web->set_pid(4242);
  web->set_image_digest("sha256:abc");
  auto* job = add(list, "demo", "job", v1::ContainerInfo::STOPPED, 3 * 3600);
  job->mutable_spec()->set_rootfs("/srv/job");
  job->mutable_spec()->set_entrypoint("/bin/job --once");
  job->set_exit_code(1);
  job->set_restart_count(2);
  job->mutable_spec()->add_tags("app=job");
  auto* api = add(list, "prod", "api", v1::ContainerInfo::BACKING_OFF, 3 * 86400);
  api->mutable_spec()->set_image("127.0.0.1:5000/app/api:v2");
  api->mutable_spec()->add_argv("/api");
  api->set_exit_code(137);
  api->set_restart_count(3);
  auto* old = add(list, "prod", "web-old", v1::ContainerInfo::FAILED, 20 * 86400);
  old->mutable_spec()->set_image("docker.io/library/busybox:latest");
  old->mutable_spec()->add_argv("/bin/false");
  old->set_exit_code(1);
  old->set_restart_count(5);
  return list;
}

std::vector<std::string> names(std::vector<std::string> filters, bool all = false) {
  auto filter = ContainerFilter::parse(filters, all);
  EXPECT_TRUE(filter) << filter.error().message;
  std::vector<std::string> out;
  if (filter) {
    const auto kept = filterContainers(sample(), *filter);
    for (const auto& info : kept.containers()) {
      out.push_back(info.spec().name());
    }
  }
  return out;
}

using Names = std::vector<std::string>;

TEST(ContctlList, WithoutAllOnlyRunningAndRestartingContainers) {
  EXPECT_EQ(names({}), (Names{"web", "api"}));
  EXPECT_EQ(names({}, true), (Names{"web", "job", "api", "web-old"}));
  // A status filter looks at every container, -a or not.
  EXPECT_EQ(names({"status=stopped"}), (Names{"job"}));
}

TEST(ContctlList, SameKeysAreOredDifferentKeysAnded) {
  EXPECT_EQ(names({"status=stopped", "status=failed"}), (Names{"job", "web-old"}));
  EXPECT_EQ(names({"name=^web", "namespace=prod"}, true), (Names{"web-old"}));
  EXPECT_EQ(names({"name=b"}, true), (Names{"web", "job", "web-old"}));  // anywhere
  EXPECT_EQ(names({"label=app=web"}, true), (Names{"web"}));
  EXPECT_EQ(names({"label=app"}, true), (Names{"web", "job"}));
  EXPECT_EQ(names({"image=docker.io/library/busybox"}, true), (Names{"web", "web-old"}));
  EXPECT_EQ(names({"image=127.0.0.1:5000/app/api:v2"}), (Names{"api"}));
  EXPECT_EQ(names({"image=127.0.0.1"}, true), (Names{}));
  EXPECT_EQ(names({"status=running", "image=docker.io/library/busybox:latest"}), (Names{"web"}));
}

TEST(ContctlList, BadFiltersNameTheCulprit) {
  auto key = ContainerFilter::parse(std::vector<std::string>{"colour=red"}, false);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().message,
            "--filter 'colour=red': unknown key 'colour' (keys: status, name, label, image, "
            "namespace)");
  auto status = ContainerFilter::parse(std::vector<std::string>{"status=exited"}, false);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("unknown status 'exited'"), std::string::npos);
  auto regex = ContainerFilter::parse(std::vector<std::string>{"name=a("}, false);
  ASSERT_FALSE(regex);
  EXPECT_NE(regex.error().message.find("--filter 'name=a(': not a regular expression"),
            std::string::npos)
      << regex.error().message;
  EXPECT_FALSE(ContainerFilter::parse(std::vector<std::string>{"name"}, false));
}

std::string listed(const ListView& view, bool all = true) {
  auto filter = ContainerFilter::parse({}, all);
  auto text = formatContainers(filterContainers(sample(), *filter), view, kNow);
  EXPECT_TRUE(text) << text.error().message;
  return text ? *text : "";
}

TEST(ContctlList, DefaultTableGolden) {
  expectGolden("ls.txt", listed({}, false));
  expectGolden("ls-a.txt", listed({}));
  expectGolden("ls-a-no-trunc.txt", listed({.no_trunc = true}));
  // The header alone when nothing matches.
  const v1::ListResponse empty;
  auto none = formatContainers(empty, {}, kNow);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->find('\n'), none->size() - 1) << *none;
  EXPECT_TRUE(none->starts_with("NAMESPACE   NAME   IMAGE")) << *none;
}

TEST(ContctlList, QuietAndFormat) {
  EXPECT_EQ(listed({.quiet = true}), "web\njob\napi\nweb-old\n");
  EXPECT_EQ(listed({.format = "{{.Namespace}}/{{.Name}} {{.ExitCode}} {{.Restarts}}"}, false),
            "demo/web - 0\nprod/api 137 3\n");
  expectGolden("ls-format-table.txt",
               listed({.format = R"(table {{.Name}}\t{{.Status}}\t{{.CreatedAt}}\t{{.Tags}})"}));
  auto bad = formatContainers(sample(), {.format = "{{.Nope}}"}, kNow);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown field '.Nope'"), std::string::npos);
}

TEST(ContctlList, JsonGolden) {
  auto filter = ContainerFilter::parse({}, false);
  expectGolden("ls.json", toJson(filterContainers(sample(), *filter)));
}

}  // namespace
}  // namespace contd::contctl
