#include "modules/contctl/container_list.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "modules/contctl/human.h"
#include "modules/contctl/output.h"
#include "modules/contctl/template.h"

namespace contd::contctl {
namespace {

constexpr std::array<std::string_view, 6> kStatusWords = {
    "running", "created", "stopped", "backing-off", "failed", "unknown"};
constexpr std::array<std::string_view, 5> kFilterKeys = {"status", "name", "label", "image",
                                                         "namespace"};
constexpr std::array<std::string_view, 13> kFields = {
    "Namespace", "Name",     "Names",    "Status",  "Image",  "Command", "Pid",
    "Restarts",  "ExitCode", "Created",  "CreatedAt", "Digest", "Tags"};
constexpr std::size_t kCommandWidth = 20;  // COMMAND is cut here unless --no-trunc

std::string joined(std::span<const std::string_view> words) {
  std::string text;
  for (const auto word : words) {
    text += (text.empty() ? "" : ", ") + std::string(word);
  }
  return text;
}

bool anyOf(const std::vector<std::string>& wanted, auto&& test) {
  return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), test);
}

std::string commandText(const v1::ContainerSpec& spec, bool no_trunc) {
  std::string command;
  for (const auto& arg : spec.argv()) {
    command += (command.empty() ? "" : " ") + arg;
  }
  if (spec.argv().empty()) {
    command = spec.entrypoint();
  }
  if (!no_trunc && command.size() > kCommandWidth) {
    command = command.substr(0, kCommandWidth - 3) + "...";
  }
  return command.empty() ? "-" : command;
}

std::string createdAtText(const v1::ContainerInfo& info) {
  if (!info.has_created_at()) {
    return "-";
  }
  std::string json = toJson(info.created_at(), true);  // "\"2026-...Z\"\n"
  return json.size() > 3 ? json.substr(1, json.size() - 3) : "-";
}

}  // namespace

std::string containerStatusText(v1::ContainerInfo::Status status) {
  std::string name = v1::ContainerInfo::Status_Name(status);
  if (name.empty()) {
    name = "status_" + std::to_string(static_cast<int>(status));  // a newer daemon's state
  }
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return c == '_' ? '-' : static_cast<char>(std::tolower(c));
  });
  return name;
}

Result<ContainerFilter> ContainerFilter::parse(std::span<const std::string> filters, bool all) {
  ContainerFilter filter;
  filter.all_ = all;
  for (const auto& text : filters) {
    const auto eq = text.find('=');
    const std::string key = text.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : text.substr(eq + 1);
    const std::string culprit = "--filter '" + text + "': ";
    if (std::find(kFilterKeys.begin(), kFilterKeys.end(), key) == kFilterKeys.end()) {
      return invalidArgument(culprit + "unknown key '" + key + "' (keys: " +
                             joined(kFilterKeys) + ")");
    }
    if (eq == std::string::npos || value.empty()) {
      return invalidArgument(culprit + "expected " + key + "=VALUE");
    }
    if (key == "status") {
      if (std::find(kStatusWords.begin(), kStatusWords.end(), value) == kStatusWords.end()) {
        return invalidArgument(culprit + "unknown status '" + value + "' (statuses: " +
                               joined(kStatusWords) + ")");
      }
      filter.status_.push_back(value);
    } else if (key == "name") {
      try {
        filter.names_.emplace_back(value, std::regex::extended);
      } catch (const std::regex_error& error) {
        return invalidArgument(culprit + "not a regular expression: " + error.what());
      }
    } else if (key == "label") {
      filter.labels_.push_back(value);
    } else if (key == "image") {
      filter.images_.push_back(value);
    } else {
      filter.namespaces_.push_back(value);
    }
  }
  return filter;
}

bool ContainerFilter::matches(const v1::ContainerInfo& info) const {
  const std::string status = containerStatusText(info.status());
  if (!all_ && status_.empty() && status != "running" && status != "created" &&
      status != "backing-off") {
    return false;
  }
  const auto& spec = info.spec();
  const bool name_ok = names_.empty() || std::any_of(names_.begin(), names_.end(), [&](auto& re) {
                         return std::regex_search(spec.name(), re);
                       });
  return name_ok && anyOf(status_, [&](const auto& s) { return s == status; }) &&
         anyOf(namespaces_, [&](const auto& ns) { return ns == info.namespace_(); }) &&
         anyOf(images_,
               [&](const auto& image) {
                 const auto& ref = spec.image();
                 const auto colon = ref.rfind(':');
                 const bool tagged = colon != std::string::npos && ref.find('/', colon) ==
                                                                       std::string::npos;
                 return ref == image || (tagged && ref.substr(0, colon) == image);
               }) &&
         anyOf(labels_, [&](const auto& label) {
           return std::any_of(spec.tags().begin(), spec.tags().end(), [&](const auto& tag) {
             return tag == label ||
                    (label.find('=') == std::string::npos && tag.starts_with(label + "="));
           });
         });
}

std::span<const std::string_view> containerFields() { return kFields; }

std::string containerField(const v1::ContainerInfo& info, std::string_view field, bool no_trunc,
                           std::chrono::system_clock::time_point now) {
  const auto& spec = info.spec();
  if (field == "Namespace") return info.namespace_();
  if (field == "Name" || field == "Names") return spec.name();
  if (field == "Status") return containerStatusText(info.status());
  if (field == "Image") return spec.image().empty() ? "-" : spec.image();
  if (field == "Command") return commandText(spec, no_trunc);
  if (field == "Pid") return info.pid() == 0 ? "-" : std::to_string(info.pid());
  if (field == "Restarts") return std::to_string(info.restart_count());
  if (field == "ExitCode") return info.has_exit_code() ? std::to_string(info.exit_code()) : "-";
  if (field == "Created") {
    return info.has_created_at() ? relativeTime(info.created_at().seconds(), now) : "-";
  }
  if (field == "CreatedAt") return createdAtText(info);
  if (field == "Digest") return info.image_digest().empty() ? "-" : info.image_digest();
  if (field == "Tags") {
    std::string tags;
    for (const auto& tag : spec.tags()) {
      tags += (tags.empty() ? "" : ",") + tag;
    }
    return tags;
  }
  return "";
}

v1::ListResponse filterContainers(const v1::ListResponse& response,
                                  const ContainerFilter& filter) {
  v1::ListResponse kept = response;
  kept.clear_containers();
  for (const auto& info : response.containers()) {
    if (filter.matches(info)) {
      *kept.add_containers() = info;
    }
  }
  return kept;
}

Result<std::string> formatContainers(const v1::ListResponse& response, const ListView& view,
                                     std::chrono::system_clock::time_point now) {
  std::string format = view.format;
  if (view.quiet) {
    format = "{{.Name}}";
  } else if (format.empty()) {
    format = "table {{.Namespace}}\t{{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Status}}\t"
             "{{.ExitCode}}\t{{.Restarts}}\t{{.Pid}}\t{{.Created}}";
  }
  auto parsed = Template::parse(format, kFields);
  if (!parsed) {
    return parsed.error();
  }
  const auto& items = response.containers();
  const auto value = [&](std::size_t item, std::string_view field) {
    return containerField(items[static_cast<int>(item)], field, view.no_trunc, now);
  };
  if (parsed->table()) {
    return parsed->renderTable(static_cast<std::size_t>(items.size()), value);
  }
  std::string out;
  for (int i = 0; i < items.size(); ++i) {
    out += parsed->render([&](std::string_view field) { return value(i, field); });
  }
  return out;
}

}  // namespace contd::contctl
