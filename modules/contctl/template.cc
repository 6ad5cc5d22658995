#include "modules/contctl/template.h"

#include <algorithm>
#include <cctype>

#include "modules/contctl/output.h"

namespace contd::contctl {
namespace {

std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 't' || text[i + 1] == 'n')) {
      out += text[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

std::string fieldList(std::span<const std::string_view> fields) {
  std::string list;
  for (const auto field : fields) {
    list += (list.empty() ? "." : ", .") + std::string(field);
  }
  return list;
}

}  // namespace

Result<Template> Template::parse(std::string_view text, std::span<const std::string_view> fields) {
  Template parsed;
  if (text.starts_with("table ") || text == "table") {
    parsed.table_ = true;
    text.remove_prefix(std::min<std::size_t>(text.size(), 6));
  }
  const std::string body = unescape(text);
  std::size_t at = 0;
  while (at < body.size()) {
    const auto open = body.find("{{", at);
    if (open != at) {
      parsed.segments_.push_back({false, body.substr(at, open - at)});
      if (open == std::string::npos) {
        break;
      }
    }
    const auto close = body.find("}}", open + 2);
    if (close == std::string::npos) {
      return invalidArgument("--format: '{{' at " + std::to_string(open) + " is not closed");
    }
    const std::string_view inside = trim(std::string_view(body).substr(open + 2, close - open - 2));
    if (!inside.starts_with('.') || inside.size() < 2) {
      return invalidArgument("--format: '{{" + std::string(inside) +
                             "}}': only {{.Field}} is understood (fields: " + fieldList(fields) +
                             ")");
    }
    const std::string_view name = inside.substr(1);
    if (std::find(fields.begin(), fields.end(), name) == fields.end()) {
      return invalidArgument("--format: unknown field '." + std::string(name) +
                             "' (fields: " + fieldList(fields) + ")");
    }
    parsed.segments_.push_back({true, std::string(name)});
    at = close + 2;
  }
  if (parsed.segments_.empty() && !parsed.table_) {
    return invalidArgument("--format: empty template");
  }
  return parsed;
}

std::string Template::render(const std::function<std::string(std::string_view)>& value) const {
  std::string out;
  for (const auto& segment : segments_) {
    out += segment.field ? value(segment.text) : segment.text;
  }
  return out + "\n";
}

std::string Template::renderTable(
    std::size_t items,
    const std::function<std::string(std::size_t, std::string_view)>& value) const {
  const auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::size_t start = 0;
    for (auto tab = line.find('\t'); tab != std::string::npos; tab = line.find('\t', start)) {
      cells.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
    cells.push_back(line.substr(start, line.size() - start - 1));  // without the newline
    return cells;
  };
  std::vector<std::vector<std::string>> rows;
  rows.push_back(split(render([](std::string_view field) { return header(field); })));
  for (std::size_t item = 0; item < items; ++item) {
    rows.push_back(split(render([&](std::string_view field) { return value(item, field); })));
  }
  return formatTable(rows);
}

std::string Template::header(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const auto c = static_cast<unsigned char>(field[i]);
    if (i > 0 && std::isupper(c) && std::islower(static_cast<unsigned char>(field[i - 1]))) {
      out += ' ';
    }
    out += static_cast<char>(std::toupper(c));
  }
  return out;
}

}  // namespace contd::contctl
