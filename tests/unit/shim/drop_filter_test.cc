#include "shim/drop_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shim/cri_format.h"

namespace contd::shim {
namespace {

constexpr const char* kStamp = "2026-11-22T09:46:47.123456789Z";

std::string record(std::string_view stream, char tag, std::string_view text) {
  std::string out = kStamp;
  out += ' ';
  out += stream;
  out += ' ';
  out += tag;
  out += ' ';
  out += text;
  out += '\n';
  return out;
}

std::vector<std::string> lines(const std::string& batch) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < batch.size()) {
    const std::size_t nl = batch.find('\n', pos);
    out.push_back(batch.substr(pos, nl + 1 - pos));
    pos = nl + 1;
  }
  return out;
}

TEST(DropFilter, KeepsEverythingWithinTheRate) {
  DropFilter filter(1'000'000);
  std::string batch = record("stdout", 'F', "one") + record("stderr", 'F', "two");
  const std::string before = batch;
  filter.filter(batch, 0);
  EXPECT_EQ(batch, before);
  EXPECT_EQ(filter.droppedBytes(), 0u);
  EXPECT_EQ(filter.droppedRecords(), 0u);
}

TEST(DropFilter, DropsWholeRecordsBeyondTheBucketAndCountsThem) {
  // Capacity is at least one full record (16 KiB + overhead) even for a tiny rate.
  DropFilter filter(10);
  const std::string one = record("stdout", 'F', std::string(100, 'x'));
  std::string batch;
  for (int i = 0; i < 1000; ++i) {
    batch += one;
  }
  filter.filter(batch, 0);
  const std::size_t capacity = kMaxRecordText + kRecordOverhead;
  const std::size_t kept = capacity / one.size();
  ASSERT_EQ(batch.size(), kept * one.size());
  for (const std::string& line : lines(batch)) {
    EXPECT_EQ(line, one);
  }
  EXPECT_EQ(filter.droppedRecords(), 1000 - kept);
  EXPECT_EQ(filter.droppedBytes(), (1000 - kept) * one.size());
}

TEST(DropFilter, RefillsAtTheRate) {
  DropFilter filter(100'000);  // capacity 100000 bytes, 100 bytes per ms
  const std::string one = record("stdout", 'F', std::string(59, 'y'));  // 100 bytes
  ASSERT_EQ(one.size(), 100u);
  std::string batch;
  for (int i = 0; i < 2000; ++i) {
    batch += one;
  }
  filter.filter(batch, 1000);
  EXPECT_EQ(batch.size(), 100'000u);
  batch.clear();
  for (int i = 0; i < 2000; ++i) {
    batch += one;
  }
  filter.filter(batch, 1100);  // 100 ms later: 10000 bytes of tokens
  EXPECT_EQ(batch.size(), 10'000u);
  EXPECT_EQ(filter.droppedRecords(), 1000u + 1900u);
}

TEST(DropFilter, NeverKeepsHalfALine) {
  DropFilter filter(10);  // capacity: one full record
  const std::string big(kMaxRecordText, 'p');
  // A long stdout line (P P F) interleaved with stderr lines.
  std::string batch = record("stdout", 'P', big) + record("stderr", 'F', "e1") +
                      record("stdout", 'P', big) + record("stdout", 'F', "end") +
                      record("stderr", 'F', "e2");
  filter.filter(batch, 0);
  // The stdout line's first record fits and is kept, so its rest is kept too (debt); the
  // stderr lines after it do not fit.
  const auto kept = lines(batch);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0], record("stdout", 'P', big));
  EXPECT_EQ(kept[1], record("stdout", 'P', big));
  EXPECT_EQ(kept[2], record("stdout", 'F', "end"));
  EXPECT_EQ(filter.droppedRecords(), 2u);

  // In debt: the next line is dropped whole, across batches, even if its end would fit.
  batch = record("stdout", 'P', big);
  filter.filter(batch, 0);
  EXPECT_TRUE(batch.empty());
  batch = record("stdout", 'F', "tail");
  filter.filter(batch, 100'000'000);  // the bucket is long full again
  EXPECT_TRUE(batch.empty()) << "the end of a dropped line was kept";
  batch = record("stdout", 'F', "next");
  filter.filter(batch, 100'000'001);
  EXPECT_EQ(batch, record("stdout", 'F', "next"));
}

}  // namespace
}  // namespace contd::shim
