// contctl pull's progress display and its command line.

#include "modules/contctl/pull_progress.h"

#include <gtest/gtest.h>

#include <array>

#include "modules/contctl/args.h"

namespace contd::contctl {
namespace {

using Progress = v1::PullImageProgress;

Progress step(Progress::State state, const std::string& digest, std::uint64_t offset,
              std::uint64_t total) {
  Progress p;
  p.set_state(state);
  p.set_digest(digest);
  p.set_offset(offset);
  p.set_total(total);
  return p;
}

const std::string kManifest = "sha256:" + std::string(64, 'm');
const std::string kLayer1 = "sha256:" + std::string(64, '1');
const std::string kLayer2 = "sha256:" + std::string(64, '2');

TEST(PullProgressView, OneLinePerBlobUpdatedInPlace) {
  PullProgressView view;
  EXPECT_EQ(view.update(step(Progress::RESOLVED, kManifest, 500, 500)),
            std::vector<std::string>{"manifest  sha256:mmmmmmmmmmmm…  resolved"});
  view.update(step(Progress::CACHED, kLayer1, 2048, 2048));
  view.update(step(Progress::WAITING, kLayer2, 0, 4 << 20));
  // A byte count that moves within FETCHING is no change of state...
  EXPECT_EQ(view.update(step(Progress::FETCHING, kLayer2, 0, 4 << 20)).size(), 1u);
  EXPECT_TRUE(view.update(step(Progress::FETCHING, kLayer2, 1 << 20, 4 << 20)).empty());
  // ...but the block shows it.
  EXPECT_EQ(view.render(), (std::vector<std::string>{
                               "manifest  sha256:mmmmmmmmmmmm…  resolved",
                               "layer 1   sha256:111111111111…  cached   2.0 KiB",
                               "layer 2   sha256:222222222222…  fetching 1.0 MiB / 4.0 MiB  25%",
                           }));
  EXPECT_EQ(view.update(step(Progress::FETCHED, kLayer2, 4 << 20, 4 << 20)),
            std::vector<std::string>{
                "layer 2   sha256:222222222222…  fetched  4.0 MiB / 4.0 MiB  100%"});
  EXPECT_TRUE(view.update(step(Progress::DONE, "", 0, 0)).empty());
  EXPECT_EQ(view.render().size(), 3u);
}

TEST(PullProgressView, HumanBytes) {
  EXPECT_EQ(humanBytes(0), "0 B");
  EXPECT_EQ(humanBytes(1023), "1023 B");
  EXPECT_EQ(humanBytes(1536), "1.5 KiB");
  EXPECT_EQ(humanBytes(100ull << 20), "100.0 MiB");
  EXPECT_EQ(humanBytes(3ull << 30), "3.0 GiB");
}

Result<Invocation> parse(std::initializer_list<std::string_view> words) {
  const std::vector<std::string_view> args(words);
  return parseArgs(args, std::nullopt);
}

TEST(PullArgs, RefCredentialsAndPlainHttp) {
  auto inv = parse({"pull", "ns1", "127.0.0.1:5000/app:1", "--creds", "bob:s3:cret",
                    "--plain-http"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->command, Command::kPull);
  EXPECT_EQ(inv->ns, "ns1");
  EXPECT_EQ(inv->ref, "127.0.0.1:5000/app:1");
  EXPECT_EQ(inv->username, "bob");
  EXPECT_EQ(inv->password, "s3:cret");  // split at the first ':'
  EXPECT_TRUE(inv->plain_http);

  inv = parse({"pull", "ns1", "busybox", "--creds", "bob", "--password-stdin"});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_TRUE(inv->password_stdin);
  EXPECT_TRUE(inv->password.empty());
  EXPECT_FALSE(inv->plain_http);
}

TEST(PullArgs, UsageErrorsNameTheProblem) {
  auto missing = parse({"pull", "ns1"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "pull: expected NS REF, got 1 argument(s)");
  auto no_user = parse({"pull", "ns1", "busybox", "--password-stdin"});
  ASSERT_FALSE(no_user);
  EXPECT_EQ(no_user.error().message, "pull: --password-stdin needs --creds USER");
  auto both = parse({"pull", "ns1", "busybox", "--creds", "a:b", "--password-stdin"});
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("drop --password-stdin"), std::string::npos);
  auto empty_user = parse({"pull", "ns1", "busybox", "--creds", ":pw"});
  ASSERT_FALSE(empty_user);
  EXPECT_NE(empty_user.error().message.find("--creds"), std::string::npos);
  EXPECT_EQ(empty_user.error().message.find("pw"), std::string::npos);  // no password echoed
  auto wrong_command = parse({"run", "ns1", "c", "--plain-http", "--rootfs", "/x"});
  ASSERT_FALSE(wrong_command);
}

}  // namespace
}  // namespace contd::contctl
