#pragma once
// contctl's --format: a small subset of Go's text/template, as podman takes it.
//   "{{.Name}} {{.Status}}"           one line per item, the fields replaced
//   "table {{.Name}}\t{{.Status}}"    a header, then aligned columns (\t separates columns)
// Only {{.Field}} (spaces inside the braces allowed) and literal text; "\t" and "\n" written
// as two characters are a tab and a newline. The "json" shortcut is handled by the caller.
// Pure functions; any thread.

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"

namespace contd::contctl {

class Template {
public:
  // Errors (kInvalidArgument) name the culprit: "--format: unknown field '.Nmae' (fields:
  // .Name, ...)", "--format: '{{' at 5 is not closed", "--format: '{{ len }}': only {{.Field}}".
  static Result<Template> parse(std::string_view text, std::span<const std::string_view> fields);

  bool table() const { return table_; }
  // One item: each field's value from `value`; a newline ends it.
  std::string render(const std::function<std::string(std::string_view field)>& value) const;
  // Rows (header first) then aligned into columns; for table() templates.
  std::string renderTable(
      std::size_t items,
      const std::function<std::string(std::size_t item, std::string_view field)>& value) const;
  // The header of a field: "ExitCode" → "EXIT CODE".
  static std::string header(std::string_view field);

private:
  struct Segment {
    bool field = false;
    std::string text;  // literal text, or the field's name without the dot
  };
  bool table_ = false;
  std::vector<Segment> segments_;
};

}  // namespace contd::contctl
