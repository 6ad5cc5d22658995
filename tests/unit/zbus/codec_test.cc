// The msgpack codec against the golden vectors captured from the real Go zbus client and
// server, plus malformed input. Built twice: in unit_zbus and, with AddressSanitizer and
// UndefinedBehaviorSanitizer, in unit_zbus_codec_asan.

#include "modules/zbus/codec.h"

#include <random>

#include <gtest/gtest.h>

#include "tests/unit/zbus/vectors.h"

namespace contd::zbus {
namespace {

using nlohmann::json;
using testing::containerFromJson;
using testing::readVector;
using testing::toHex;
using testing::vectorEntry;
using testing::vectorIndex;

std::vector<json> requestEntries() {
  std::vector<json> entries;
  for (const auto& entry : vectorIndex().value("vectors", json::array())) {
    if (entry.at("direction") == "request") {
      entries.push_back(entry);
    }
  }
  return entries;
}

std::vector<json> responseEntries() {
  std::vector<json> entries;
  for (const auto& entry : vectorIndex().value("vectors", json::array())) {
    if (entry.at("direction") == "response") {
      entries.push_back(entry);
    }
  }
  return entries;
}

TEST(ZbusCodec, VectorsArePresent) {
  CONTD_REQUIRE_VECTORS();
  EXPECT_GE(requestEntries().size(), 19U);
  EXPECT_GE(responseEntries().size(), 19U);
}

// Every request decodes into its envelope, and re-encodes to the same bytes.
TEST(ZbusCodec, EveryRequestDecodesAndReencodesByteForByte) {
  CONTD_REQUIRE_VECTORS();
  for (const auto& entry : requestEntries()) {
    SCOPED_TRACE(entry.at("name").get<std::string>());
    const std::string bytes = readVector(entry.at("file").get<std::string>());
    ASSERT_EQ(toHex(bytes), entry.at("hex").get<std::string>());
    auto request = decodeRequest(bytes);
    ASSERT_TRUE(request) << request.error().message;
    const json& decoded = entry.at("decoded");
    EXPECT_EQ(request->id, decoded.at("ID").get<std::string>());
    EXPECT_EQ(request->reply_to, decoded.at("ReplyTo").get<std::string>());
    EXPECT_EQ(request->method, decoded.at("Method").get<std::string>());
    EXPECT_EQ(request->object.name, decoded.at("Object").at("Name").get<std::string>());
    EXPECT_EQ(request->object.version, decoded.at("Object").at("Version").get<std::string>());
    ASSERT_EQ(request->inputs.size(), decoded.at("Inputs").size());
    for (std::size_t i = 0; i < request->inputs.size(); ++i) {
      EXPECT_EQ(toHex(request->inputs[i]), decoded.at("Inputs")[i].at("$bin").get<std::string>());
    }
    EXPECT_EQ(toHex(encodeRequest(*request)), toHex(bytes));
  }
}

// Every typed argument decodes into the value the Go client sent, and re-encodes exactly.
TEST(ZbusCodec, EveryArgumentDecodesIntoItsGoType) {
  CONTD_REQUIRE_VECTORS();
  for (const auto& entry : requestEntries()) {
    if (!entry.contains("parts")) {
      continue;
    }
    for (const auto& part : entry.at("parts")) {
      SCOPED_TRACE(part.at("file").get<std::string>());
      const std::string bytes = readVector(part.at("file").get<std::string>());
      const std::string go_type = part.at("go_type");
      const json& value = part.at("decoded");
      if (go_type == "string" || go_type == "pkg.ContainerID") {
        if (!value.is_string()) {
          continue;  // proto_bad_argtype sends a string where a Container belongs
        }
        auto decoded = decodeString(bytes);
        ASSERT_TRUE(decoded) << decoded.error().message;
        EXPECT_EQ(*decoded, value.get<std::string>());
        EXPECT_EQ(encodeString(*decoded), bytes);
      } else if (go_type == "time.Duration") {
        auto decoded = decodeDuration(bytes);
        ASSERT_TRUE(decoded) << decoded.error().message;
        EXPECT_EQ(*decoded, value.at("$int64").get<std::int64_t>());
        EXPECT_EQ(encodeDuration(*decoded), bytes);
      } else if (go_type.ends_with(".Container")) {
        if (!value.is_object()) {
          // A string where a Container belongs does not decode (proto_bad_argtype).
          EXPECT_FALSE(decodeContainer(bytes));
          continue;
        }
        auto decoded = decodeContainer(bytes);
        ASSERT_TRUE(decoded) << decoded.error().message;
        EXPECT_EQ(*decoded, containerFromJson(value));
        EXPECT_EQ(toHex(encodeContainer(*decoded)), toHex(bytes));
      } else {
        ADD_FAILURE() << "unexpected Go type " << go_type;
      }
    }
  }
}

// Every response decodes, re-encodes to the same bytes, and its Data decodes as its type.
TEST(ZbusCodec, EveryResponseReencodesByteForByte) {
  CONTD_REQUIRE_VECTORS();
  for (const auto& entry : responseEntries()) {
    SCOPED_TRACE(entry.at("name").get<std::string>());
    const std::string bytes = readVector(entry.at("file").get<std::string>());
    auto response = decodeResponse(bytes);
    ASSERT_TRUE(response) << response.error().message;
    const json& decoded = entry.at("decoded");
    EXPECT_EQ(response->id, decoded.at("ID").get<std::string>());
    EXPECT_EQ(toHex(encodeResponse(*response)), toHex(bytes));
    if (!entry.contains("parts") || entry.at("parts").is_null()) {
      EXPECT_FALSE(response->output.data);
      continue;
    }
    const json& part = entry.at("parts")[0];
    ASSERT_TRUE(response->output.data);
    EXPECT_EQ(*response->output.data, readVector(part.at("file").get<std::string>()));
    const std::string go_type = part.at("go_type");
    if (go_type.ends_with(".Container")) {
      auto container = decodeContainer(*response->output.data);
      ASSERT_TRUE(container) << container.error().message;
      EXPECT_EQ(toHex(encodeContainer(containerFromJson(part.at("decoded")))),
                toHex(*response->output.data));
    } else if (go_type == "zbus.Status") {
      auto status = decodeStatus(*response->output.data);
      ASSERT_TRUE(status) << status.error().message;
      EXPECT_EQ(encodeStatus(*status), *response->output.data);
    }
  }
}

TEST(ZbusCodec, ZeroContainerIsThe208ByteEncoding) {
  CONTD_REQUIRE_VECTORS();
  const std::string expected = readVector("inspect_notfound.response.data.msgpack");
  EXPECT_EQ(expected.size(), 208U);
  EXPECT_EQ(toHex(encodeContainer(Container{})), toHex(expected));
}

TEST(ZbusCodec, StatusFromTheVectorsValues) {
  CONTD_REQUIRE_VECTORS();
  const json& entry = vectorEntry("status", "response");
  const json& data = entry.at("parts")[0].at("decoded");
  ServerStatus status;
  for (const auto& object : data.at("Objects")) {
    status.objects.push_back({object.at("Name"), object.at("Version")});
  }
  for (const auto& worker : data.at("Workers")) {
    status.workers.push_back(WorkerStatus{.state = worker.at("State"),
                                          .start_time = testing::timeFromJson(worker.at("StartTime")),
                                          .action = worker.at("Action")});
  }
  const Response response{.id = entry.at("decoded").at("ID"),
                          .output = Output{.data = encodeStatus(status)}};
  EXPECT_EQ(toHex(encodeResponse(response)), entry.at("hex").get<std::string>());
}

TEST(ZbusCodec, TimeUsesGosThreeForms) {
  EXPECT_EQ(toHex(encodeTime(GoTime{1704164645, 0})), "d6ff65937d25");
  EXPECT_EQ(toHex(encodeTime(GoTime{})), "c70cff00000000fffffff1886e0900");
  // Nanoseconds need the 8-byte form; so do seconds beyond 32 bits.
  EXPECT_EQ(encodeTime(GoTime{1704164645, 1}).size(), 10U);
  EXPECT_EQ(encodeTime(GoTime{(1LL << 32) + 5, 0}).size(), 10U);
  // Beyond 34 bits and negative seconds: 12 bytes.
  EXPECT_EQ(encodeTime(GoTime{1LL << 34, 0}).size(), 15U);
  EXPECT_EQ(encodeTime(GoTime{-1, 0}).size(), 15U);
  for (const GoTime t : {GoTime{}, GoTime{0, 0}, GoTime{1704164645, 999999999},
                         GoTime{1LL << 34, 7}, GoTime{-5, 3}}) {
    auto decoded = decodeTime(encodeTime(t));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, t);
  }
  EXPECT_EQ(GoTime::fromUnixNanos(0), GoTime{});
  EXPECT_EQ(GoTime::fromUnixNanos(1'500'000'000), (GoTime{1, 500'000'000}));
}

TEST(ZbusCodec, IntegersAreFixedWidth) {
  Container c;
  c.cpu = 2;
  const std::string bytes = encodeContainer(c);
  EXPECT_NE(toHex(bytes).find("a3435055cf0000000000000002"), std::string::npos);
  EXPECT_EQ(toHex(encodeDuration(0)), "d30000000000000000");
  EXPECT_EQ(toHex(encodeDuration(-1)), "d3ffffffffffffffff");
}

TEST(ZbusCodec, NilAndEmptySlicesDiffer) {
  EXPECT_EQ(toHex(encodeStringSlice(std::nullopt)), "c0");
  EXPECT_EQ(toHex(encodeStringSlice(std::vector<std::string>{})), "90");
  auto nil = decodeStringSlice("\xc0");
  ASSERT_TRUE(nil);
  EXPECT_FALSE(nil->has_value());
  auto empty = decodeStringSlice("\x90");
  ASSERT_TRUE(empty);
  ASSERT_TRUE(empty->has_value());
  EXPECT_TRUE((*empty)->empty());
}

TEST(ZbusCodec, DecodesAsForgivinglyAsGo) {
  // Any integer width for a Duration, nil as 0.
  EXPECT_EQ(*decodeDuration("\x05"), 5);
  EXPECT_EQ(*decodeDuration(std::string("\xcd\x01\x00", 3)), 256);
  EXPECT_EQ(*decodeDuration("\xc0"), 0);
  EXPECT_EQ(*decodeDuration("\xff"), -1);
  // nil and bin as strings.
  EXPECT_EQ(*decodeString("\xc0"), "");
  EXPECT_EQ(*decodeString(std::string("\xc4\x02hi", 4)), "hi");
  // A struct as nil, with unknown keys, keys out of order, or as an array.
  EXPECT_EQ(*decodeContainer("\xc0"), Container{});
  auto reordered = decodeContainer(std::string("\x83\xa6RootFS\xa2/r\xa5" "Bogus\x91\x91\x01\xa4Name\xa1n"));
  ASSERT_TRUE(reordered) << reordered.error().message;
  EXPECT_EQ(reordered->name, "n");
  EXPECT_EQ(reordered->root_fs, "/r");
  auto positional = decodeContainer(std::string("\x92\xa1n\xa2/r"));
  ASSERT_TRUE(positional) << positional.error().message;
  EXPECT_EQ(positional->name, "n");
  EXPECT_EQ(positional->root_fs, "/r");
}

TEST(ZbusCodec, RefusesWrongTypes) {
  EXPECT_FALSE(decodeString("\x01"));
  EXPECT_FALSE(decodeString("\x91\xa1x"));
  EXPECT_FALSE(decodeDuration("\xa1x"));
  EXPECT_FALSE(decodeDuration("\xcb\x3f\xf0\0\0\0\0\0\0"));  // float
  EXPECT_FALSE(decodeContainer("\xa3"
                               "abc"));
  EXPECT_FALSE(decodeContainer(std::string("\x81\xabInteractive\x01")));  // bool as int
  EXPECT_FALSE(decodeContainer(std::string("\x81\xa9" "CreatedAt\xc0")));  // nil time
  EXPECT_FALSE(decodeContainer(std::string("\x81\xa3" "Env\xa1x")));       // slice as str
  EXPECT_FALSE(decodeTime(std::string("\xd5\xff\x00\x01", 4)));           // 2-byte ext
  EXPECT_FALSE(decodeStringSlice("\x91\x01"));
}

TEST(ZbusCodec, RefusesMalformedEnvelopes) {
  EXPECT_FALSE(decodeRequest(""));
  EXPECT_FALSE(decodeRequest("\xc0"));
  EXPECT_FALSE(decodeRequest("\xa3"
                             "abc"));
  EXPECT_FALSE(decodeRequest("\x01"));
  EXPECT_FALSE(decodeRequest("\xc1"));  // never used
  EXPECT_FALSE(decodeRequest(std::string("\x81\xa6Inputs\x91\x01", 10)));  // input not bytes
}

TEST(ZbusCodec, EveryTruncationIsAnErrorNotACrash) {
  CONTD_REQUIRE_VECTORS();
  for (const auto& entry : requestEntries()) {
    const std::string bytes = readVector(entry.at("file").get<std::string>());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(decodeRequest(std::string_view(bytes).substr(0, n)))
          << entry.at("name") << " cut at " << n;
    }
  }
  const std::string container = readVector("run.request.arg1.msgpack");
  for (std::size_t n = 0; n < container.size(); ++n) {
    EXPECT_FALSE(decodeContainer(std::string_view(container).substr(0, n))) << n;
  }
}

TEST(ZbusCodec, OversizedLengthsAreRefusedWithoutAllocating) {
  // str32, bin32, array32 and map32 headers claiming about 4 GiB, with a few bytes behind.
  for (const char* header : {"\xdb\xff\xff\xff\xff", "\xc6\xff\xff\xff\xff",
                             "\xdd\xff\xff\xff\xff", "\xdf\xff\xff\xff\xff",
                             "\xc9\xff\xff\xff\xff\x01"}) {
    const std::string bytes = std::string(header) + "abcdef";
    EXPECT_FALSE(decodeRequest(bytes));
    EXPECT_FALSE(decodeString(bytes));
    EXPECT_FALSE(decodeContainer(bytes));
    EXPECT_FALSE(decodeStringSlice(bytes));
  }
  // A request whose Inputs array claims more elements than the payload has bytes.
  EXPECT_FALSE(decodeRequest(std::string("\x81\xa6Inputs\xdd\x00\x10\x00\x00\xc4\x00", 15)));
}

TEST(ZbusCodec, DeepNestingIsRefused) {
  for (const char opener : {'\x91', '\x81'}) {
    std::string deep;
    for (int i = 0; i < 100000; ++i) {
      deep += opener;
      if (opener == '\x81') {
        deep += '\xa1';
        deep += 'k';
      }
    }
    deep += '\xc0';
    EXPECT_FALSE(decodeRequest(deep));
    EXPECT_FALSE(decodeContainer(deep));
  }
  // Nesting within kMaxDepth under an unknown key is skipped, as Go skips it.
  std::string shallow = "\x82\xa4Name\xa1n\xa3XYZ";
  for (std::size_t i = 0; i + 2 < kMaxDepth; ++i) {
    shallow += '\x91';
  }
  shallow += '\xc0';
  auto decoded = decodeContainer(shallow);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->name, "n");
}

// Random corruption of every request vector: whatever the bytes, decoding returns.
TEST(ZbusCodec, CorruptedVectorsNeverCrash) {
  CONTD_REQUIRE_VECTORS();
  std::mt19937 random(20261122);
  for (const auto& entry : requestEntries()) {
    const std::string original = readVector(entry.at("file").get<std::string>());
    for (int round = 0; round < 400; ++round) {
      std::string bytes = original;
      const int flips = 1 + static_cast<int>(random() % 4);
      for (int f = 0; f < flips; ++f) {
        bytes[random() % bytes.size()] = static_cast<char>(random() & 0xff);
      }
      auto request = decodeRequest(bytes);
      if (request) {
        for (const auto& input : request->inputs) {
          (void)decodeContainer(input);
          (void)decodeString(input);
          (void)decodeDuration(input);
        }
      }
    }
  }
}

}  // namespace
}  // namespace contd::zbus
