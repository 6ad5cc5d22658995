// The container user: every form of `user` resolved against scripted /etc/passwd and
// /etc/group (what is read, and only when needed), the errors, and reading those files
// from a host directory rootfs without being led out of it.

#include "modules/container/user_lookup.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace contd::container {

// For readable failures (found by gtest through ADL).
void PrintTo(const ProcessUser& user, std::ostream* out) {
  *out << user.uid << ":" << user.gid << " +[";
  for (std::size_t i = 0; i < user.additional_gids.size(); ++i) {
    *out << (i == 0 ? "" : ",") << user.additional_gids[i];
  }
  *out << "]";
}

namespace {

namespace fs = std::filesystem;
using Gids = std::vector<std::uint32_t>;

constexpr char kPasswd[] =
    "# the usual first lines\n"
    "root:x:0:0:root:/root:/bin/sh\n"
    "\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "app:x:1000:1000:App,,,:/home/app:/bin/sh\n"
    "broken line without colons\n"
    "short:x:7\n"
    "badid:x:abc:1::/:/bin/sh\n"
    "+nis:x:5:5::/:/bin/sh\n"
    "  spaced:x:1100:1100::/:/bin/sh  \r\n"
    "app:x:4000:4000:second app, never used::/bin/sh\n"
    "nogroup:x:1200:1300::/:/bin/sh\n";

constexpr char kGroup[] =
    "root:x:0:\n"
    "# staff below\n"
    "staff:x:50:app\n"
    "app:x:1000:app\n"
    "extra:x:2000:other,app\n"
    "again:x:2000:app\n"
    "more:x:3000: spaced , app \r\n"
    "bad:x:notanumber:app\n"
    "tiny:x\n"
    "others:x:4000:other\n";

// A FileReader over fixed contents that counts what was asked for.
class ScriptedFiles {
public:
  explicit ScriptedFiles(std::map<std::string, std::string> files) : files_(std::move(files)) {}

  FileReader reader() {
    return [this](const std::string& path) -> Result<std::optional<std::string>> {
      reads_.push_back(path);
      if (auto it = errors_.find(path); it != errors_.end()) {
        return it->second;
      }
      auto it = files_.find(path);
      if (it == files_.end()) {
        return std::optional<std::string>();
      }
      return std::optional<std::string>(it->second);
    };
  }

  std::map<std::string, Error> errors_;
  std::vector<std::string> reads_;

private:
  std::map<std::string, std::string> files_;
};

// What Run does with ContainerSpec::user: parse once, then resolve the parsed request.
Result<ProcessUser> resolveText(std::string_view user, const FileReader& read) {
  auto parsed = parseUser(user);
  if (!parsed) {
    return parsed.error();
  }
  return resolveUser(*parsed, read);
}

bool needsFiles(std::string_view user) { return parseUser(user).value().needsFiles(); }

class UserLookupTest : public testing::Test {
protected:
  Result<ProcessUser> resolve(std::string_view user) {
    files_.reads_.clear();
    return resolveText(user, files_.reader());
  }

  ProcessUser resolved(std::string_view user) {
    auto result = resolve(user);
    EXPECT_TRUE(result) << user << ": " << result.error().message;
    return result ? *result : ProcessUser{.uid = 99999, .gid = 99999};
  }

  ScriptedFiles files_{
      std::map<std::string, std::string>{{kPasswdPath, kPasswd}, {kGroupPath, kGroup}}};
};

using Reads = std::vector<std::string>;

TEST_F(UserLookupTest, EmptyIsRootWithoutReading) {
  EXPECT_EQ(resolved(""), (ProcessUser{.uid = 0, .gid = 0}));
  EXPECT_TRUE(files_.reads_.empty());
  EXPECT_EQ(resolveText("", FileReader()).value(), ProcessUser{});
  EXPECT_FALSE(needsFiles(""));
}

TEST_F(UserLookupTest, NumericUidAndGidReadNothing) {
  EXPECT_EQ(resolved("1000:2000"), (ProcessUser{.uid = 1000, .gid = 2000}));
  EXPECT_TRUE(files_.reads_.empty());
  EXPECT_EQ(resolved("0:0"), ProcessUser{});
  EXPECT_EQ(resolved("4294967295:0012"), (ProcessUser{.uid = 4294967295u, .gid = 12}));
  EXPECT_TRUE(files_.reads_.empty());
  // Not even a reader is needed.
  EXPECT_EQ(resolveText("1234:5678", FileReader()).value(),
            (ProcessUser{.uid = 1234, .gid = 5678}));
  EXPECT_FALSE(needsFiles("1234:5678"));
  EXPECT_TRUE(needsFiles("1234"));
  EXPECT_TRUE(needsFiles("app"));
  EXPECT_TRUE(needsFiles("1234:staff"));
  EXPECT_TRUE(needsFiles("app:50"));
}

TEST_F(UserLookupTest, NumericUidTakesThePasswdGidAndTheNamesGroups) {
  EXPECT_EQ(resolved("1000"), (ProcessUser{.uid = 1000, .gid = 1000,
                                           .additional_gids = {50, 2000, 3000}}));
  EXPECT_EQ(files_.reads_, (Reads{kPasswdPath, kGroupPath}));
  // The first entry with the uid counts.
  EXPECT_EQ(resolved("0"), ProcessUser{});
}

TEST_F(UserLookupTest, UnknownNumericUidIsGidZeroWithoutGroups) {
  EXPECT_EQ(resolved("4242"), (ProcessUser{.uid = 4242, .gid = 0}));
  EXPECT_EQ(files_.reads_, (Reads{kPasswdPath}));  // no name: no memberships to look for

  ScriptedFiles empty(std::map<std::string, std::string>{});
  auto user = resolveText("4242", empty.reader());
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(*user, (ProcessUser{.uid = 4242, .gid = 0}));
}

TEST_F(UserLookupTest, NameTakesUidGidAndSupplementaryGroups) {
  // staff (50) lists app; app's own group (1000) is the primary one and not repeated;
  // extra and again share gid 2000, kept once; "more" lists " app " with blanks around.
  EXPECT_EQ(resolved("app"),
            (ProcessUser{.uid = 1000, .gid = 1000, .additional_gids = {50, 2000, 3000}}));
  EXPECT_EQ(files_.reads_, (Reads{kPasswdPath, kGroupPath}));
  EXPECT_EQ(resolved("root"), ProcessUser{});
  EXPECT_EQ(resolved("spaced"),
            (ProcessUser{.uid = 1100, .gid = 1100, .additional_gids = {3000}}));
  // A primary gid without an /etc/group entry is fine.
  EXPECT_EQ(resolved("nogroup"), (ProcessUser{.uid = 1200, .gid = 1300}));
}

TEST_F(UserLookupTest, GroupPartOverridesThePrimaryGid) {
  // The passwd gid is no longer the primary one: its group (1000 lists app) is added.
  EXPECT_EQ(resolved("app:staff"),
            (ProcessUser{.uid = 1000, .gid = 50, .additional_gids = {1000, 2000, 3000}}));
  EXPECT_EQ(files_.reads_, (Reads{kPasswdPath, kGroupPath}));  // group read once
  EXPECT_EQ(resolved("app:7"),
            (ProcessUser{.uid = 1000, .gid = 7, .additional_gids = {50, 1000, 2000, 3000}}));
  EXPECT_EQ(resolved("app:1000"),
            (ProcessUser{.uid = 1000, .gid = 1000, .additional_gids = {50, 2000, 3000}}));
  // A uid with a group name: only /etc/group is read, and the uid has no name.
  EXPECT_EQ(resolved("1000:extra"), (ProcessUser{.uid = 1000, .gid = 2000}));
  EXPECT_EQ(files_.reads_, (Reads{kGroupPath}));
}

TEST_F(UserLookupTest, UnknownNamesAreInvalidArgumentsNamingThem) {
  auto user = resolve("nobody");
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, Code::kInvalidArgument);
  EXPECT_EQ(user.error().message, "user 'nobody': no such user in the container's /etc/passwd");
  // Lines that do not parse hold no user.
  for (const char* name : {"short", "badid", "broken", "+nis", "nis", "#"}) {
    auto bad = resolve(name);
    ASSERT_FALSE(bad) << name;
    EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  }

  auto group = resolve("app:wheel");
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().code, Code::kInvalidArgument);
  EXPECT_EQ(group.error().message,
            "user 'app:wheel': no such group 'wheel' in the container's /etc/group");
  auto bad_line = resolve("1:bad");
  ASSERT_FALSE(bad_line);
  EXPECT_NE(bad_line.error().message.find("no such group 'bad'"), std::string::npos);

  ScriptedFiles empty(std::map<std::string, std::string>{});
  auto no_files = resolveText("app", empty.reader());
  ASSERT_FALSE(no_files);
  EXPECT_EQ(no_files.error().message, "user 'app': no such user in the container's /etc/passwd");
  auto no_group_file = resolveText("0:staff", empty.reader());
  ASSERT_FALSE(no_group_file);
  EXPECT_EQ(no_group_file.error().message,
            "user '0:staff': no such group 'staff' in the container's /etc/group");
}

TEST_F(UserLookupTest, MissingGroupFileMeansNoSupplementaryGroups) {
  ScriptedFiles passwd_only(std::map<std::string, std::string>{{kPasswdPath, kPasswd}});
  auto user = resolveText("app", passwd_only.reader());
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(*user, (ProcessUser{.uid = 1000, .gid = 1000}));
}

TEST_F(UserLookupTest, ReadErrorsKeepTheirCodeBehindTheUser) {
  files_.errors_.emplace(kGroupPath, internalError("open '/etc/group': Permission denied"));
  auto user = resolve("app");
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, Code::kInternal);
  EXPECT_EQ(user.error().message, "user 'app': open '/etc/group': Permission denied");
}

TEST_F(UserLookupTest, BadUserStringsNameTheField) {
  for (const std::string& bad :
       {std::string("a:b:c"), std::string(":x"), std::string("x:"), std::string("a b"),
        std::string("a\tb"), std::string("4294967296"), std::string("0:4294967296"),
        std::string(257, 'a')}) {
    auto user = resolve(bad);
    ASSERT_FALSE(user) << bad;
    EXPECT_EQ(user.error().code, Code::kInvalidArgument);
    EXPECT_EQ(user.error().message.rfind("user: ", 0), 0u) << user.error().message;
    EXPECT_TRUE(files_.reads_.empty()) << bad;
  }
}

class RootfsReaderTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "contd-user-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    rootfs_ = dir_ / "rootfs";
    fs::create_directories(rootfs_ / "etc");
    fs::create_directories(dir_ / "outside" / "etc");
    std::ofstream(dir_ / "outside" / "etc" / "passwd") << "host:x:0:0::/:/bin/sh\n";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<std::optional<std::string>> read(const std::string& path) {
    return rootfsFileReader(rootfs_)(path);
  }

  fs::path dir_;
  fs::path rootfs_;
};

TEST_F(RootfsReaderTest, ReadsFilesAndMissingOnesAreNone) {
  std::ofstream(rootfs_ / "etc" / "passwd") << "app:x:1000:1000::/:/bin/sh\n";
  auto passwd = read(kPasswdPath);
  ASSERT_TRUE(passwd) << passwd.error().message;
  ASSERT_TRUE(passwd->has_value());
  EXPECT_EQ(**passwd, "app:x:1000:1000::/:/bin/sh\n");
  auto group = read(kGroupPath);
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_FALSE(group->has_value());
  // etc missing altogether, or a file where a directory should be.
  fs::remove_all(rootfs_ / "etc");
  EXPECT_FALSE(read(kPasswdPath).value().has_value());
  std::ofstream(rootfs_ / "etc") << "not a directory";
  EXPECT_FALSE(read(kPasswdPath).value().has_value());
}

TEST_F(RootfsReaderTest, SymlinksResolveInsideTheRootfs) {
  // Absolute: the rootfs's /etc/passwd.real, not the host's.
  std::ofstream(rootfs_ / "etc" / "passwd.real") << "inside:x:1:1::/:/bin/sh\n";
  fs::create_symlink("/etc/passwd.real", rootfs_ / "etc" / "passwd");
  auto passwd = read(kPasswdPath);
  ASSERT_TRUE(passwd) << passwd.error().message;
  ASSERT_TRUE(passwd->has_value());
  EXPECT_EQ(**passwd, "inside:x:1:1::/:/bin/sh\n");

  // Relative ones climbing out stop at the rootfs's root: ../../outside/etc/passwd is
  // <rootfs>/outside/etc/passwd, which does not exist.
  fs::create_symlink("../../outside/etc/passwd", rootfs_ / "etc" / "group");
  auto group = read(kGroupPath);
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_FALSE(group->has_value());

  // A directory symlink on the way, to the host's /etc: the rootfs's etc again.
  fs::remove_all(rootfs_ / "etc");
  fs::create_directories(rootfs_ / "real-etc");
  std::ofstream(rootfs_ / "real-etc" / "passwd") << "viadir:x:2:2::/:/bin/sh\n";
  fs::create_symlink("/real-etc", rootfs_ / "etc");
  EXPECT_EQ(read(kPasswdPath).value().value_or(""), "viadir:x:2:2::/:/bin/sh\n");

  // With a name in it, the whole lookup works through the reader.
  std::ofstream(rootfs_ / "real-etc" / "group") << "g:x:77:viadir\n";
  auto user = resolveText("viadir", rootfsFileReader(rootfs_));
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(*user, (ProcessUser{.uid = 2, .gid = 2, .additional_gids = {77}}));
}

TEST_F(RootfsReaderTest, RefusesWhatIsNoRegularFileOrTooLarge) {
  fs::create_directories(rootfs_ / "etc" / "passwd");
  auto dir = read(kPasswdPath);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, Code::kInvalidArgument);
  EXPECT_NE(dir.error().message.find("not a regular file"), std::string::npos);

  // A fifo must not block the reader.
  ASSERT_EQ(::mkfifo((rootfs_ / "etc" / "group").c_str(), 0644), 0);
  auto fifo = read(kGroupPath);
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().code, Code::kInvalidArgument);

  fs::remove_all(rootfs_ / "etc" / "passwd");
  std::ofstream(rootfs_ / "etc" / "passwd") << std::string(kMaxUserFileBytes + 1, '#');
  auto big = read(kPasswdPath);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Code::kInvalidArgument);
  EXPECT_NE(big.error().message.find("larger than"), std::string::npos) << big.error().message;
  fs::resize_file(rootfs_ / "etc" / "passwd", kMaxUserFileBytes);
  auto exact = read(kPasswdPath);
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_EQ((*exact)->size(), kMaxUserFileBytes);
}

TEST_F(RootfsReaderTest, AMissingRootfsIsAnError) {
  rootfs_ = dir_ / "gone";
  auto missing = read(kPasswdPath);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kInternal);
}

}  // namespace
}  // namespace contd::container
