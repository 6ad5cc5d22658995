#include "modules/container/held_log_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

namespace contd::container {
namespace {

namespace fs = std::filesystem;

// The k of every "<id>.log.<k>" in the folder, ascending. Listed rather than probed .1, .2,
// ... until one is missing: in the middle of a rotation one number is briefly missing.
std::vector<unsigned> rotatedNumbers(const fs::path& log_file) {
  const std::string prefix = log_file.filename().string() + ".";
  std::vector<unsigned> numbers;
  std::error_code ec;
  for (fs::directory_iterator it(log_file.parent_path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix) || name.size() == prefix.size()) {
      continue;
    }
    unsigned k = 0;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    auto [ptr, err] = std::from_chars(first, last, k);
    if (err == std::errc() && ptr == last && k > 0 && *first != '0') {
      numbers.push_back(k);
    }
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

fs::path numbered(const fs::path& log_file, unsigned k) {
  if (k == 0) {
    return log_file;
  }
  fs::path path = log_file;
  path += "." + std::to_string(k);
  return path;
}

// Opens log number `k` into `newest_first` unless it is missing or already held there.
// False when it is missing.
bool holdNumber(const fs::path& log_file, unsigned k, std::vector<HeldLogFile>& newest_first) {
  HeldLogFile file;
  file.number = k;
  file.path = numbered(log_file, k);
  file.fd = UniqueFd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!file.fd.valid() || ::fstat(file.fd.get(), &st) != 0) {
    return false;
  }
  file.id = FileId{st.st_dev, st.st_ino};
  file.size = static_cast<std::uint64_t>(st.st_size);
  if (!findHeld(newest_first, file.id)) {
    newest_first.push_back(std::move(file));
  }
  return true;
}

}  // namespace

std::optional<FileId> fileIdOf(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return std::nullopt;
  }
  return FileId{st.st_dev, st.st_ino};
}

std::optional<FileId> fileIdOf(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return FileId{st.st_dev, st.st_ino};
}

std::vector<HeldLogFile> holdLogFiles(const fs::path& log_file) {
  std::vector<HeldLogFile> newest_first;
  // The current file first: whatever rotates after this is newer than the read.
  holdNumber(log_file, 0, newest_first);
  const std::vector<unsigned> numbers = rotatedNumbers(log_file);
  for (unsigned k : numbers) {
    holdNumber(log_file, k, newest_first);
  }
  // A rotation after the listing moved the oldest file one number up.
  for (unsigned k = numbers.empty() ? 1 : numbers.back() + 1; holdNumber(log_file, k, newest_first);
       ++k) {
  }
  std::reverse(newest_first.begin(), newest_first.end());
  return newest_first;
}

std::optional<std::size_t> findHeld(const std::vector<HeldLogFile>& files, const FileId& id) {
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (files[i].id == id) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace contd::container
