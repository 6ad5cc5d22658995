// Reading a file of an overlayfs stack without mounting it: the layer directories of a
// snapshot's mounts, and overlayfs' lookup rules (whiteouts, opaque and covering
// directories, symlinks kept inside the union) on layers built in a temp dir.
// Whiteouts (mknod) and opaque directories (trusted.* xattrs) need root; without it those
// tests skip.

#include "modules/images/layer_files.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace contd::images {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<fs::path>;

TEST(LayerDirs, BindIsOneLayer) {
  auto dirs = layerDirs({{"bind", "/snapshots/1/fs", {"ro", "rbind"}}});
  ASSERT_TRUE(dirs) << dirs.error().message;
  EXPECT_EQ(*dirs, (Paths{"/snapshots/1/fs"}));
}

TEST(LayerDirs, OverlayIsUpperThenLowerTopFirst) {
  auto view = layerDirs(
      {{"overlay", "overlay", {"index=off", "lowerdir=/s/3/fs:/s/2/fs:/s/1/fs", "ro"}}});
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(*view, (Paths{"/s/3/fs", "/s/2/fs", "/s/1/fs"}));

  const std::vector<std::string> options = {"workdir=/s/4/work", "upperdir=/s/4/fs",
                                            "lowerdir=/s/2/fs:/s/1/fs"};
  auto active = layerDirs({{"overlay", "overlay", options}});
  ASSERT_TRUE(active) << active.error().message;
  EXPECT_EQ(*active, (Paths{"/s/4/fs", "/s/2/fs", "/s/1/fs"}));

  // The kernel's newer one-directory-per-option form.
  auto plus = layerDirs({{"overlay", "overlay", {"lowerdir+=/s/2/fs", "lowerdir+=/s/1/fs"}}});
  ASSERT_TRUE(plus) << plus.error().message;
  EXPECT_EQ(*plus, (Paths{"/s/2/fs", "/s/1/fs"}));
}

TEST(LayerDirs, RefusesWhatItCannotRead) {
  for (const auto& mounts : std::vector<std::vector<SnapshotMount>>{
           {},
           {{"bind", "/a", {}}, {"bind", "/b", {}}},
           {{"tmpfs", "tmpfs", {}}},
           {{"overlay", "overlay", {"upperdir=/u"}}},
           {{"bind", "", {}}},
       }) {
    auto dirs = layerDirs(mounts);
    ASSERT_FALSE(dirs);
    EXPECT_EQ(dirs.error().code, Code::kInvalidArgument);
  }
}

class LayerFilesTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "contd-layers-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    for (const char* name : {"top", "middle", "bottom"}) {
      fs::create_directories(dir_ / name);
    }
    layers_ = {dir_ / "top", dir_ / "middle", dir_ / "bottom"};
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path layer(const char* name) const { return dir_ / name; }

  static void write(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
  }

  // An overlay whiteout: a character device 0/0.
  static void whiteout(const fs::path& path) {
    fs::create_directories(path.parent_path());
    ASSERT_EQ(::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)), 0) << path;
  }

  static void opaque(const fs::path& dir) {
    fs::create_directories(dir);
    ASSERT_EQ(::setxattr(dir.c_str(), kOpaqueXattr, "y", 1, 0), 0) << dir;
  }

  // The content, "<none>" when absent, "<error: ...>" on an error.
  std::string read(std::string_view path, std::size_t max_bytes = 1 << 20) const {
    auto content = readLayerFile(layers_, path, max_bytes);
    if (!content) {
      return "<error: " + content.error().message + ">";
    }
    return content->value_or("<none>");
  }

  fs::path dir_;
  Paths layers_;
};

#define REQUIRE_ROOT()                                                      \
  do {                                                                      \
    if (::geteuid() != 0) {                                                 \
      GTEST_SKIP() << "needs root (mknod of whiteouts, trusted.* xattrs)"; \
    }                                                                       \
  } while (0)

TEST_F(LayerFilesTest, TheTopMostLayerWithTheFileWins) {
  write(layer("bottom") / "etc/passwd", "bottom\n");
  write(layer("bottom") / "etc/group", "bottom group\n");
  write(layer("middle") / "etc/passwd", "middle\n");
  EXPECT_EQ(read("/etc/passwd"), "middle\n");
  EXPECT_EQ(read("/etc/group"), "bottom group\n");
  EXPECT_EQ(read("etc/group"), "bottom group\n");
  EXPECT_EQ(read("//etc/./group"), "bottom group\n");
  EXPECT_EQ(read("/etc/../etc/group"), "bottom group\n");
  EXPECT_EQ(read("/../../etc/group"), "bottom group\n");
  EXPECT_EQ(read("/etc/shadow"), "<none>");
  EXPECT_EQ(read("/nothing/here"), "<none>");
  // One layer alone (a bind mount's view).
  EXPECT_EQ(readLayerFile({layer("bottom")}, "/etc/passwd", 100).value().value_or(""),
            "bottom\n");
  EXPECT_FALSE(readLayerFile({}, "/etc/passwd", 100).value().has_value());
}

TEST_F(LayerFilesTest, AWhiteoutDeletesTheFile) {
  REQUIRE_ROOT();
  write(layer("bottom") / "etc/passwd", "bottom\n");
  whiteout(layer("middle") / "etc/passwd");
  EXPECT_EQ(read("/etc/passwd"), "<none>");
  // Written again above the whiteout: there again.
  write(layer("top") / "etc/passwd", "top\n");
  EXPECT_EQ(read("/etc/passwd"), "top\n");
}

TEST_F(LayerFilesTest, AWhitedOutDirectoryDeletesEverythingBelowIt) {
  REQUIRE_ROOT();
  write(layer("bottom") / "etc/passwd", "bottom\n");
  whiteout(layer("middle") / "etc");
  EXPECT_EQ(read("/etc/passwd"), "<none>");
}

TEST_F(LayerFilesTest, AnOpaqueDirectoryHidesTheLowerLayers) {
  REQUIRE_ROOT();
  write(layer("bottom") / "etc/passwd", "bottom\n");
  write(layer("bottom") / "etc/group", "bottom group\n");
  opaque(layer("middle") / "etc");
  write(layer("middle") / "etc/group", "middle group\n");
  EXPECT_EQ(read("/etc/passwd"), "<none>");
  EXPECT_EQ(read("/etc/group"), "middle group\n");
  // An opaque ancestor further up hides deeper paths too.
  write(layer("bottom") / "usr/lib/os/passwd", "deep\n");
  EXPECT_EQ(read("/usr/lib/os/passwd"), "deep\n");
  opaque(layer("middle") / "usr");
  EXPECT_EQ(read("/usr/lib/os/passwd"), "<none>");
  // Another value than "y" is no opaque directory.
  fs::remove_all(layer("middle") / "usr");
  fs::create_directories(layer("middle") / "usr");
  ASSERT_EQ(::setxattr((layer("middle") / "usr").c_str(), kOpaqueXattr, "n", 1, 0), 0);
  EXPECT_EQ(read("/usr/lib/os/passwd"), "deep\n");
}

TEST_F(LayerFilesTest, ANonDirectoryAboveCoversTheLowerDirectories) {
  write(layer("bottom") / "etc/passwd", "bottom\n");
  write(layer("middle") / "etc", "a file named etc\n");
  EXPECT_EQ(read("/etc/passwd"), "<none>");
  // And a directory above a lower non-directory does not merge with what is beneath.
  fs::remove(layer("middle") / "etc");
  write(layer("top") / "etc/hostname", "top\n");
  write(layer("middle") / "etc", "a file named etc\n");
  EXPECT_EQ(read("/etc/passwd"), "<none>");
  EXPECT_EQ(read("/etc/hostname"), "top\n");
}

TEST_F(LayerFilesTest, SymlinksResolveInsideTheUnion) {
  write(layer("bottom") / "usr/lib/passwd", "from usr lib\n");
  fs::create_directories(layer("top") / "etc");
  fs::create_symlink("/usr/lib/passwd", layer("top") / "etc/passwd");
  EXPECT_EQ(read("/etc/passwd"), "from usr lib\n");
  fs::create_symlink("../usr/lib/passwd", layer("top") / "etc/relative");
  EXPECT_EQ(read("/etc/relative"), "from usr lib\n");

  // Out of the union is not possible: ".." stops at its root, "/" is its root.
  write(dir_ / "host-secret", "host\n");
  fs::create_symlink("../../../../../../" + (dir_ / "host-secret").relative_path().string(),
                     layer("top") / "etc/group");
  EXPECT_EQ(read("/etc/group"), "<none>");
  fs::create_symlink(dir_ / "host-secret", layer("top") / "etc/absolute");
  EXPECT_EQ(read("/etc/absolute"), "<none>");
  fs::create_symlink(dir_, layer("middle") / "hostdir");
  EXPECT_EQ(read("/hostdir/host-secret"), "<none>");

  // A symlinked directory in a layer is followed in the union, never on the host.
  fs::create_directories(layer("middle") / "real");
  write(layer("bottom") / "real/file", "real file\n");
  fs::create_symlink("real", layer("middle") / "alias");
  EXPECT_EQ(read("/alias/file"), "real file\n");
}

TEST_F(LayerFilesTest, SymlinkLoopsEnd) {
  fs::create_directories(layer("top") / "etc");
  fs::create_symlink("/etc/b", layer("top") / "etc/a");
  fs::create_symlink("/etc/a", layer("top") / "etc/b");
  const std::string loop = read("/etc/a");
  EXPECT_NE(loop.find("<error: "), std::string::npos) << loop;
  EXPECT_NE(loop.find("symlinks"), std::string::npos) << loop;
}

TEST_F(LayerFilesTest, RefusesNonRegularAndLargeFiles) {
  fs::create_directories(layer("top") / "etc/passwd");
  EXPECT_NE(read("/etc/passwd").find("not a regular file"), std::string::npos);
  EXPECT_NE(read("/").find("not a regular file"), std::string::npos);
  ASSERT_EQ(::mkfifo((layer("top") / "etc/group").c_str(), 0644), 0);
  EXPECT_NE(read("/etc/group").find("not a regular file"), std::string::npos);

  write(layer("bottom") / "etc/big", std::string(101, 'x'));
  auto big = readLayerFile(layers_, "/etc/big", 100);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Code::kInvalidArgument);
  EXPECT_NE(big.error().message.find("larger than 100 bytes"), std::string::npos);
  EXPECT_EQ(readLayerFile(layers_, "/etc/big", 101).value().value_or("").size(), 101u);
}

TEST_F(LayerFilesTest, AMissingLayerIsAnError) {
  layers_.insert(layers_.begin(), dir_ / "gone");
  auto content = readLayerFile(layers_, "/etc/passwd", 100);
  ASSERT_FALSE(content);
  EXPECT_EQ(content.error().code, Code::kInternal);
  EXPECT_NE(content.error().message.find("gone"), std::string::npos);
}

}  // namespace
}  // namespace contd::images
