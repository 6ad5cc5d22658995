#include "shim/cri_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace contd::shim {
namespace {

constexpr char kStamp[] = "2026-11-22T09:46:47.123456789Z";
static_assert(sizeof(kStamp) - 1 == kTimestampLength);

std::string record(std::string_view stream, char tag, std::string_view text) {
  return std::string(kStamp) + " " + std::string(stream) + " " + tag + " " + std::string(text) +
         "\n";
}

std::string feedAll(LineFramer& framer, const std::vector<std::string>& reads) {
  std::string out;
  for (const std::string& r : reads) {
    framer.feed(r, kStamp, out);
  }
  return out;
}

std::string format(std::int64_t sec, long nsec) {
  TimestampFormatter f;
  char buf[kTimestampLength];
  f.format(timespec{sec, nsec}, buf);
  return std::string(buf, kTimestampLength);
}

TEST(TimestampFormatter, FormatsUtcWithNineFractionDigits) {
  EXPECT_EQ(format(0, 0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format(1795340807, 123456789), "2026-11-22T09:46:47.123456789Z");
  EXPECT_EQ(format(1795340807, 5), "2026-11-22T09:46:47.000000005Z");
  EXPECT_EQ(format(951782400, 999999999), "2000-02-29T00:00:00.999999999Z");  // leap day
  EXPECT_EQ(format(4102444799, 1000), "2099-12-31T23:59:59.000001000Z");
}

TEST(TimestampFormatter, CachedSecondFollowsTheClock) {
  TimestampFormatter f;
  char buf[kTimestampLength];
  f.format(timespec{1795340807, 1}, buf);
  EXPECT_EQ(std::string(buf, kTimestampLength), "2026-11-22T09:46:47.000000001Z");
  f.format(timespec{1795340808, 2}, buf);
  EXPECT_EQ(std::string(buf, kTimestampLength), "2026-11-22T09:46:48.000000002Z");
  f.format(timespec{1795340807, 3}, buf);  // a clock step back
  EXPECT_EQ(std::string(buf, kTimestampLength), "2026-11-22T09:46:47.000000003Z");
}

TEST(TimestampFormatter, NowIsUtcAndCurrent) {
  const timespec ts = TimestampFormatter::now();
  EXPECT_GT(ts.tv_sec, 1700000000);
  char buf[kTimestampLength];
  TimestampFormatter f;
  f.format(ts, buf);
  EXPECT_EQ(buf[kTimestampLength - 1], 'Z');
  EXPECT_EQ(buf[10], 'T');
}

TEST(LineFramer, OneFullRecordPerLine) {
  LineFramer framer(Stream::kStdout);
  EXPECT_EQ(feedAll(framer, {"hello\n"}), record("stdout", 'F', "hello"));
}

TEST(LineFramer, ManyLinesInOneRead) {
  LineFramer framer(Stream::kStdout);
  EXPECT_EQ(feedAll(framer, {"a\nbb\nccc\n"}),
            record("stdout", 'F', "a") + record("stdout", 'F', "bb") + record("stdout", 'F', "ccc"));
}

TEST(LineFramer, StderrIsTagged) {
  LineFramer framer(Stream::kStderr);
  EXPECT_EQ(feedAll(framer, {"oops\n"}), record("stderr", 'F', "oops"));
}

TEST(LineFramer, EmptyLinesAreEmptyRecords) {
  LineFramer framer(Stream::kStdout);
  EXPECT_EQ(feedAll(framer, {"\n\nx\n"}),
            record("stdout", 'F', "") + record("stdout", 'F', "") + record("stdout", 'F', "x"));
  EXPECT_EQ(record("stdout", 'F', ""), std::string(kStamp) + " stdout F \n");
}

TEST(LineFramer, PartialLineWaitsForItsNewline) {
  LineFramer framer(Stream::kStdout);
  std::string out;
  framer.feed("hel", kStamp, out);
  EXPECT_EQ(out, "");
  EXPECT_EQ(framer.pendingBytes(), 3u);
  framer.feed("lo wor", kStamp, out);
  EXPECT_EQ(out, "");
  framer.feed("ld\nnext", kStamp, out);
  EXPECT_EQ(out, record("stdout", 'F', "hello world"));
  EXPECT_EQ(framer.pendingBytes(), 4u);
}

TEST(LineFramer, PartialLineIsCompleteAtEof) {
  LineFramer framer(Stream::kStdout);
  std::string out;
  framer.feed("a\ntail", kStamp, out);
  framer.finish(kStamp, out);
  EXPECT_EQ(out, record("stdout", 'F', "a") + record("stdout", 'F', "tail"));
  out.clear();
  framer.finish(kStamp, out);  // nothing pending: nothing written
  EXPECT_EQ(out, "");
}

TEST(LineFramer, LongLineIsSplitIntoPartialRecordsOfBufferSize) {
  LineFramer framer(Stream::kStdout);
  const std::string line = std::string(kMaxRecordText, 'a') + std::string(kMaxRecordText, 'b') +
                           std::string(10, 'c');
  EXPECT_EQ(feedAll(framer, {line + "\n"}),
            record("stdout", 'P', std::string(kMaxRecordText, 'a')) +
                record("stdout", 'P', std::string(kMaxRecordText, 'b')) +
                record("stdout", 'F', std::string(10, 'c')));
}

TEST(LineFramer, LineOfExactlyBufferSizeIsOneFullRecord) {
  LineFramer framer(Stream::kStdout);
  const std::string text(kMaxRecordText, 'x');
  std::string out;
  framer.feed(text, kStamp, out);  // buffer full, but the next byte may be the newline
  EXPECT_EQ(out, "");
  framer.feed("\n", kStamp, out);
  EXPECT_EQ(out, record("stdout", 'F', text));
}

TEST(LineFramer, FullBufferIsWrittenAsPartialWhenTheLineGoesOn) {
  LineFramer framer(Stream::kStdout);
  std::string out;
  framer.feed(std::string(kMaxRecordText - 1, 'x'), kStamp, out);
  EXPECT_EQ(out, "");
  framer.feed("yz", kStamp, out);  // overflows by one: a P record, "z" stays pending
  EXPECT_EQ(out, record("stdout", 'P', std::string(kMaxRecordText - 1, 'x') + "y"));
  EXPECT_EQ(framer.pendingBytes(), 1u);
  out.clear();
  framer.feed("\n", kStamp, out);
  EXPECT_EQ(out, record("stdout", 'F', "z"));
}

TEST(LineFramer, SplitsReadsAtAnyByteIdentically) {
  const std::string input = "first\n\nsecond line\n" + std::string(kMaxRecordText + 5, 'q') +
                            "\nlast no newline";
  LineFramer whole(Stream::kStderr);
  std::string expected;
  whole.feed(input, kStamp, expected);
  whole.finish(kStamp, expected);
  for (std::size_t step : {1u, 2u, 7u, 4096u, 16385u}) {
    LineFramer framer(Stream::kStderr);
    std::string out;
    for (std::size_t i = 0; i < input.size(); i += step) {
      framer.feed(std::string_view(input).substr(i, step), kStamp, out);
    }
    framer.finish(kStamp, out);
    EXPECT_EQ(out, expected) << "step " << step;
  }
}

TEST(LineFramer, KeepsBytesAsTheyCame) {
  LineFramer framer(Stream::kStdout);
  const std::string text("tab\there\r \x01\xff", 13);
  EXPECT_EQ(feedAll(framer, {text + "\n"}), record("stdout", 'F', text));
}

}  // namespace
}  // namespace contd::shim
