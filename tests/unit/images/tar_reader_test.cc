#include "modules/images/tar_reader.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "modules/common/digest.h"
#include "modules/images/image_store.h"

namespace contd::images {
namespace {

// One 512-byte header (ustar) for `name`, then the data padded to 512.
std::string entry(const std::string& name, char type, const std::string& data) {
  char header[512] = {};
  std::memcpy(header, name.data(), std::min<std::size_t>(name.size(), 100));
  std::memcpy(header + 100, "0000644", 7);
  std::memcpy(header + 108, "0000000", 7);
  std::memcpy(header + 116, "0000000", 7);
  char size[13];
  std::snprintf(size, sizeof(size), "%011o", static_cast<unsigned>(data.size()));
  std::memcpy(header + 124, size, 11);
  std::memcpy(header + 136, "00000000000", 11);
  header[156] = type;
  std::memcpy(header + 257, "ustar\0" "00", 8);
  std::memset(header + 148, ' ', 8);
  unsigned sum = 0;
  for (const char c : header) {
    sum += static_cast<unsigned char>(c);
  }
  char checksum[8];
  std::snprintf(checksum, sizeof(checksum), "%06o", sum & 0777777);
  std::memcpy(header + 148, checksum, 7);
  std::string out(header, sizeof(header));
  out += data;
  out.append((512 - data.size() % 512) % 512, '\0');
  return out;
}

class TarReaderTest : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/contd-tar-XXXXXX";
    const int fd = mkstemp(pattern);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = pattern;
  }
  void TearDown() override { ::unlink(path_.c_str()); }
  void write(const std::string& data) { std::ofstream(path_, std::ios::binary) << data; }

  std::string path_;
};

TEST_F(TarReaderTest, ReadsUstarAndGnuLongNames) {
  const std::string long_name = "blobs/sha256/" + std::string(120, 'a');
  write(entry("./dir/", '5', "") + entry("././@LongLink", 'L', long_name + '\0') +
        entry("short-name", '0', "hello") + std::string(1024, '\0'));
  auto reader = TarReader::open(path_);
  ASSERT_TRUE(reader) << reader.error().message;
  auto dir = reader->next();
  ASSERT_TRUE(dir && dir->has_value());
  EXPECT_EQ((*dir)->name, "dir");
  EXPECT_EQ((*dir)->type, TarEntry::Type::kDirectory);
  auto file = reader->next();
  ASSERT_TRUE(file && file->has_value()) << (file ? "" : file.error().message);
  EXPECT_EQ((*file)->name, long_name);
  EXPECT_EQ((*file)->size, 5u);
  char buffer[3];
  std::string data;
  for (;;) {
    auto got = reader->read(buffer, sizeof(buffer));
    ASSERT_TRUE(got);
    if (*got == 0) {
      break;
    }
    data.append(buffer, *got);
  }
  EXPECT_EQ(data, "hello");
  auto end = reader->next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->has_value());
}

TEST_F(TarReaderTest, TruncatedDataIsAnErrorNamingTheEntry) {
  write(entry("layer.tar", '0', std::string(2000, 'x')).substr(0, 1000));
  auto reader = TarReader::open(path_);
  ASSERT_TRUE(reader);
  auto file = reader->next();
  ASSERT_TRUE(file && file->has_value());
  auto end = reader->next();
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, Code::kInvalidArgument);
  EXPECT_NE(end.error().message.find("truncated in the data of 'layer.tar'"), std::string::npos)
      << end.error().message;
}

TEST_F(TarReaderTest, GarbageIsNotATarArchive) {
  write(std::string(512, 'g'));
  auto reader = TarReader::open(path_);
  ASSERT_TRUE(reader);
  auto next = reader->next();
  ASSERT_FALSE(next);
  EXPECT_NE(next.error().message.find("bad header checksum"), std::string::npos);
}

TEST(Digest, Sha256AndChainIds) {
  EXPECT_EQ(sha256Digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_TRUE(isSha256Digest(sha256Digest("x")));
  EXPECT_FALSE(isSha256Digest("sha256:abc"));
  const std::string a = sha256Digest("a");
  const std::string b = sha256Digest("b");
  const auto chain = chainIds({a, b});
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0], a);
  EXPECT_EQ(chain[1], sha256Digest(a + " " + b));
}

}  // namespace
}  // namespace contd::images
