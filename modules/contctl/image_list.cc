#include "modules/contctl/image_list.h"

#include "modules/contctl/human.h"
#include "modules/contctl/output.h"

namespace contd::contctl {
namespace {

constexpr std::size_t kDigestWidth = 7 + 12;  // "sha256:" and 12 hex digits, as podman's ids

}  // namespace

std::string formatImages(const std::vector<NamespaceImages>& lists, bool with_namespace,
                         bool no_trunc, std::chrono::system_clock::time_point now) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "DIGEST", "CREATED", "SIZE"});
  for (const auto& list : lists) {
    for (const auto& image : list.images.images()) {
      std::string digest = image.digest();
      if (!no_trunc && digest.size() > kDigestWidth) {
        digest.resize(kDigestWidth);
      }
      const std::string created =
          image.has_created() ? relativeTime(image.created().seconds(), now) : "-";
      rows.push_back(
          {image.name(), digest.empty() ? "-" : digest, created, humanSize(image.size())});
      if (with_namespace) {
        rows.back().insert(rows.back().begin(), list.ns);
      }
    }
  }
  if (with_namespace) {
    rows.front().insert(rows.front().begin(), "NAMESPACE");
  }
  return formatTable(rows);
}

std::string imageNames(const std::vector<NamespaceImages>& lists) {
  std::string text;
  for (const auto& list : lists) {
    for (const auto& image : list.images.images()) {
      text += image.name() + "\n";
    }
  }
  return text;
}

}  // namespace contd::contctl
