// --format: {{.Field}} and literal text, the table prefix, and errors naming the culprit.

#include "modules/contctl/template.h"

#include <array>

#include <gtest/gtest.h>

namespace contd::contctl {
namespace {

constexpr std::array<std::string_view, 3> kFields = {"Name", "Status", "ExitCode"};

std::string field(std::string_view name) { return "<" + std::string(name) + ">"; }

TEST(ContctlTemplate, FieldsAreReplacedAndTextKept) {
  auto t = Template::parse("{{.Name}} is {{ .Status }}!", kFields);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_FALSE(t->table());
  EXPECT_EQ(t->render(field), "<Name> is <Status>!\n");
  auto escaped = Template::parse(R"({{.Name}}\t{{.Status}})", kFields);
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->render(field), "<Name>\t<Status>\n");
}

TEST(ContctlTemplate, TablePrintsAHeaderAndAlignsColumns) {
  auto t = Template::parse(R"(table {{.Name}}\t{{.ExitCode}})", kFields);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->table());
  const std::array<std::array<std::string, 2>, 2> rows = {{{"web", "0"}, {"a", "137"}}};
  const auto text = t->renderTable(2, [&](std::size_t item, std::string_view name) {
    return rows[item][name == "Name" ? 0 : 1];
  });
  EXPECT_EQ(text,
            "NAME   EXIT CODE\n"
            "web    0\n"
            "a      137\n");
  EXPECT_EQ(t->renderTable(0, [](std::size_t, std::string_view) { return ""; }),
            "NAME   EXIT CODE\n");
}

TEST(ContctlTemplate, ErrorsNameTheCulprit) {
  auto unknown = Template::parse("{{.Nmae}}", kFields);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message,
            "--format: unknown field '.Nmae' (fields: .Name, .Status, .ExitCode)");
  auto open = Template::parse("x {{.Name", kFields);
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().message, "--format: '{{' at 2 is not closed");
  auto func = Template::parse("{{ len .Name }}", kFields);
  ASSERT_FALSE(func);
  EXPECT_NE(func.error().message.find("'{{len .Name}}': only {{.Field}}"), std::string::npos)
      << func.error().message;
  EXPECT_FALSE(Template::parse("", kFields));
}

}  // namespace
}  // namespace contd::contctl
