// The structured forms of log lines (modules/common/log_fields.h): the key=value fields read
// back from a message, the JSON line of log_format "json", and the journal's fields.

#include "modules/common/log_fields.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modules/common/printable.h"

namespace contd::log {
namespace {

TEST(LogFields, ReadsKeyValuePairsAndSkipsWords) {
  const auto fields =
      logFields("call op=Run ns=demo id=web peer_uid=0 peer_pid=4242 code=OK ms=48.3");
  const std::vector<LogField> want = {{"op", "Run"},      {"ns", "demo"},        {"id", "web"},
                                      {"peer_uid", "0"},  {"peer_pid", "4242"},  {"code", "OK"},
                                      {"ms", "48.3"}};
  EXPECT_EQ(fields, want);
  EXPECT_TRUE(logFields("stopped").empty());
  EXPECT_TRUE(logFields("").empty());
}

TEST(LogFields, QuotedValuesAsPrintableWritesThem) {
  const std::string error = "container \"web\" in namespace \"demo\": not found \\ x";
  const std::string line = "call op=Inspect ns=demo id=web code=NOT_FOUND error=\"" +
                           printable(error) + "\" ms=1.0";
  const auto fields = logFields(line);
  ASSERT_EQ(fields.size(), 6U) << line;
  EXPECT_EQ(fields[4], (LogField{"error", error}));
  EXPECT_EQ(fields[5], (LogField{"ms", "1.0"}));
  // Not fields: an upper-case key, a key after a non-space, a quoted word without a key.
  EXPECT_TRUE(logFields("X=1 a.b=2 \"k=v\" =3").empty());
  // An empty value, and a quoted value that never closes (cut logs): kept as far as it goes.
  EXPECT_EQ(logFields("id= ns=x"), (std::vector<LogField>{{"id", ""}, {"ns", "x"}}));
  EXPECT_EQ(logFields("error=\"cut"), (std::vector<LogField>{{"error", "cut"}}));
}

TEST(LogFields, JsonLineHasTimeLevelMsgAndTheFields) {
  const auto time = std::chrono::system_clock::time_point(std::chrono::microseconds(
      1'796'000'000'123'456LL));
  const std::string text =
      jsonLogLine(time, "info", "api", "call op=Run ns=demo id=web code=OK level=9 msg=x");
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const auto line = nlohmann::json::parse(text);
  EXPECT_EQ(line["time"], "2026-11-30T00:53:20.123456Z");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["logger"], "api");
  EXPECT_EQ(line["msg"], "call op=Run ns=demo id=web code=OK level=9 msg=x");
  EXPECT_EQ(line["op"], "Run");
  EXPECT_EQ(line["ns"], "demo");
  EXPECT_EQ(line["id"], "web");
  EXPECT_EQ(line["code"], "OK");
  // Invalid UTF-8 is replaced, never an exception.
  const auto bad = nlohmann::json::parse(jsonLogLine(time, "warning", "container", "x=\xff"));
  EXPECT_EQ(bad["x"], "\xef\xbf\xbd");
}

TEST(LogFields, JournalFieldsNameNamespaceContainerOpAndCode) {
  const auto fields = journalFields(6, "api", "call op=Run ns=demo id=web code=OK ms=2.0");
  const std::vector<std::string> want = {
      "MESSAGE=call op=Run ns=demo id=web code=OK ms=2.0", "PRIORITY=6",
      "SYSLOG_IDENTIFIER=contd", "CONTD_LOGGER=api", "OP=Run", "NAMESPACE=demo",
      "CONTAINER=web", "CODE=OK"};
  EXPECT_EQ(fields, want);
  // The container module's words, and a field left empty, which is not sent.
  const auto other = journalFields(4, "container", "restart namespace=n1 container=db id=");
  const std::vector<std::string> want_other = {
      "MESSAGE=restart namespace=n1 container=db id=", "PRIORITY=4", "SYSLOG_IDENTIFIER=contd",
      "CONTD_LOGGER=container", "NAMESPACE=n1", "CONTAINER=db"};
  EXPECT_EQ(other, want_other);
}

}  // namespace
}  // namespace contd::log
