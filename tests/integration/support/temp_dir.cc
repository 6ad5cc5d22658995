#include "tests/integration/support/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>
#include <vector>

namespace contd::testing {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeMountinfo(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string octal = field.substr(i + 1, 3);
      if (octal.find_first_not_of("01234567") == std::string::npos) {
        out += static_cast<char>(std::stoi(octal, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> mountsBelow(const std::filesystem::path& dir) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) {
    return sysError("open '/proc/self/mountinfo'", errno);
  }
  const std::string root = dir.lexically_normal().string();
  std::vector<std::string> found;
  std::string line;
  while (std::getline(in, line)) {
    // Fields: id parent major:minor root mount-point options ...
    std::istringstream fields(line);
    std::string id, parent, dev, mount_root, mount_point;
    fields >> id >> parent >> dev >> mount_root >> mount_point;
    mount_point = unescapeMountinfo(mount_point);
    if (mount_point == root || mount_point.rfind(root + "/", 0) == 0) {
      found.push_back(mount_point);
    }
  }
  return found;
}

Result<TempDir> TempDir::make(std::string_view prefix) {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) {
    base = "/tmp";
  }
  std::string templ = (base / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return sysError("mkdtemp '" + templ + "'", errno);
  }
  return TempDir(std::filesystem::path(templ));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    (void)remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (Status s = remove(); !s) {
    std::cerr << "contd test support: " << s.error().message << "\n";
  }
}

Status TempDir::remove() {
  if (path_.empty()) {
    return okStatus();
  }
  auto mounts = mountsBelow(path_);
  if (!mounts) {
    return mounts.error();
  }
  if (!mounts->empty()) {
    return failedPrecondition("remove '" + path_.string() + "': '" + mounts->front() +
                              "' is still mounted; left in place");
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) {
    return internalError("remove '" + path_.string() + "': " + ec.message());
  }
  path_.clear();
  return okStatus();
}

}  // namespace contd::testing
