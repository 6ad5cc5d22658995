#pragma once
// contctl ls / ps: which containers are shown (-a, --filter) and how (the default table,
// -q, --format, --no-trunc). Pure functions; "now" is a parameter (relative times).
//
// Without -a (and without a status= filter) only containers that run or are about to run
// again are shown: running, created and backing-off (podman's "running" and docker's
// "restarting"). --filter KEY=VALUE, repeatable: the same key ORed, different keys ANDed.
//   status=WORD       running, created, stopped, backing-off, failed, unknown
//   name=REGEX        an extended regular expression found anywhere in the name
//   label=KEY[=VALUE] a tag KEY=VALUE (or a tag KEY, or KEY=anything, without =VALUE)
//   image=REF         spec.image as given to run, or that name without its :tag
//   namespace=NS      the namespace, exactly

#include <chrono>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "contd/v1/containers.pb.h"
#include "modules/common/result.h"

namespace contd::contctl {

class ContainerFilter {
public:
  // Errors name the filter: "--filter 'colour=red': unknown key 'colour' (keys: ...)".
  static Result<ContainerFilter> parse(std::span<const std::string> filters, bool all);
  bool matches(const v1::ContainerInfo& info) const;

private:
  bool all_ = false;
  std::vector<std::string> status_, labels_, images_, namespaces_;
  std::vector<std::regex> names_;
};

// The fields --format knows: Namespace, Name, Names, Status, Image, Command, Pid, Restarts,
// ExitCode, Created, CreatedAt, Digest, Tags.
std::span<const std::string_view> containerFields();
// One field of one container as text; `no_trunc` keeps the command whole, `now` makes
// Created relative.
std::string containerField(const v1::ContainerInfo& info, std::string_view field, bool no_trunc,
                           std::chrono::system_clock::time_point now);

struct ListView {
  bool quiet = false;     // -q: names only
  bool no_trunc = false;  // --no-trunc
  std::string format;     // --format: "", "json" or a template
};

// The text of a (filtered) list: -q names, --format lines or table, else the default
// table NAMESPACE NAME IMAGE COMMAND STATUS EXIT RESTARTS PID CREATED.
Result<std::string> formatContainers(const v1::ListResponse& response, const ListView& view,
                                     std::chrono::system_clock::time_point now);

// The containers of `response` that `filter` keeps, in order.
v1::ListResponse filterContainers(const v1::ListResponse& response, const ContainerFilter& filter);

// "running", "backing-off": the status as tables show it.
std::string containerStatusText(v1::ContainerInfo::Status status);

}  // namespace contd::contctl
