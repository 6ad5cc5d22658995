#include "modules/container/user_lookup.h"

#include <charconv>
#include <utility>

#include "modules/common/printable.h"
#include "modules/container/in_root.h"

namespace contd::container {
namespace {

struct UserParts {
  std::string_view user;
  std::optional<std::string_view> group;
};

UserParts splitUser(std::string_view user) {
  const std::size_t colon = user.find(':');
  if (colon == std::string_view::npos) {
    return {user, std::nullopt};
  }
  return {user.substr(0, colon), user.substr(colon + 1)};
}

bool allDigits(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// A decimal id that fits 32 bits; nullopt for anything else (a name, or out of range).
std::optional<std::uint32_t> parseId(std::string_view text) {
  if (!allDigits(text)) {
    return std::nullopt;
  }
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r";
  const std::size_t first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// The fields of each entry line of a passwd/group file, trimmed; comments, blank lines and
// NIS "+"/"-" lines left out. `visit` returns true to stop.
template <typename Visit>
void forEachEntry(std::string_view content, Visit&& visit) {
  for (std::string_view line : split(content, '\n')) {
    line = trim(line);
    if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-') {
      continue;
    }
    if (visit(split(line, ':'))) {
      return;
    }
  }
}

struct PasswdEntry {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

// name:password:uid:gid[:gecos:home:shell]; lines with fewer fields or bad ids are skipped.
std::optional<PasswdEntry> findPasswd(std::string_view content,
                                      std::optional<std::string_view> name,
                                      std::optional<std::uint32_t> uid) {
  std::optional<PasswdEntry> found;
  forEachEntry(content, [&](const std::vector<std::string_view>& fields) {
    if (fields.size() < 4 || fields[0].empty()) {
      return false;
    }
    const auto entry_uid = parseId(fields[2]);
    const auto entry_gid = parseId(fields[3]);
    if (!entry_uid || !entry_gid) {
      return false;
    }
    if ((name && fields[0] == *name) || (uid && *entry_uid == *uid)) {
      found = PasswdEntry{std::string(fields[0]), *entry_uid, *entry_gid};
      return true;
    }
    return false;
  });
  return found;
}

struct GroupEntry {
  std::string_view name;
  std::uint32_t gid = 0;
  std::vector<std::string_view> members;
};

// name:password:gid[:member,member...]; lines with fewer fields or a bad gid are skipped.
template <typename Visit>
void forEachGroup(std::string_view content, Visit&& visit) {
  forEachEntry(content, [&](const std::vector<std::string_view>& fields) {
    if (fields.size() < 3 || fields[0].empty()) {
      return false;
    }
    const auto gid = parseId(fields[2]);
    if (!gid) {
      return false;
    }
    GroupEntry entry{fields[0], *gid, {}};
    if (fields.size() > 3) {
      for (std::string_view member : split(fields[3], ',')) {
        member = trim(member);
        if (!member.empty()) {
          entry.members.push_back(member);
        }
      }
    }
    return visit(entry);
  });
}

// Reads each file at most once, and only when asked.
class Files {
public:
  Files(std::string_view user, const FileReader& read) : user_(user), read_(read) {}

  Result<std::string_view> passwd() { return get(kPasswdPath, passwd_); }
  Result<std::string_view> group() { return get(kGroupPath, group_); }

private:
  Result<std::string_view> get(const char* path, std::optional<std::string>& cache) {
    if (!cache) {
      if (!read_) {
        return internalError("user " + inQuotes(user_) + ": no way to read " + path);
      }
      auto content = read_(path);
      if (!content) {
        return content.error().wrap("user " + inQuotes(user_));
      }
      cache = content->value_or(std::string());  // a missing file has no entries
    }
    return std::string_view(*cache);
  }

  std::string_view user_;
  const FileReader& read_;
  std::optional<std::string> passwd_;
  std::optional<std::string> group_;
};

// The gid of the group named `group_name` in the container's /etc/group.
Result<std::uint32_t> namedGroupId(std::string_view user, std::string_view group_name,
                                   Files& files) {
  auto group = files.group();
  if (!group) {
    return group.error();
  }
  std::optional<std::uint32_t> found;
  forEachGroup(*group, [&](const GroupEntry& entry) {
    if (entry.name == group_name) {
      found = entry.gid;
    }
    return found.has_value();
  });
  if (!found) {
    return invalidArgument("user " + inQuotes(user) + ": no such group " +
                           inQuotes(group_name) + " in the container's /etc/group");
  }
  return *found;
}

// Adds the groups listing `name` as a member to out.additional_gids, each once and none
// equal to out.gid.
Status addSupplementaryGroups(const std::string& name, Files& files, ProcessUser& out) {
  auto group = files.group();
  if (!group) {
    return group.error();
  }
  forEachGroup(*group, [&](const GroupEntry& entry) {
    bool member = false;
    for (std::string_view m : entry.members) {
      member = member || m == name;
    }
    bool known = entry.gid == out.gid;
    for (std::uint32_t gid : out.additional_gids) {
      known = known || gid == entry.gid;
    }
    if (member && !known) {
      out.additional_gids.push_back(entry.gid);
    }
    return false;
  });
  return okStatus();
}

}  // namespace

Result<UserRequest> parseUser(std::string_view user) {
  UserRequest out{.text = std::string(user)};
  if (user.empty()) {
    return out;
  }
  if (user.size() > kMaxUserLength) {
    return invalidArgument("user: longer than " + std::to_string(kMaxUserLength) +
                           " characters");
  }
  for (char c : user) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return invalidArgument("user: whitespace or a control character in " + inQuotes(user));
    }
  }
  const UserParts parts = splitUser(user);
  if (parts.group && parts.group->find(':') != std::string_view::npos) {
    return invalidArgument("user: expected USER[:GROUP] with at most one ':', got " +
                           inQuotes(user));
  }
  if (parts.user.empty()) {
    return invalidArgument("user: the user part of " + inQuotes(user) + " is empty");
  }
  if (parts.group && parts.group->empty()) {
    return invalidArgument("user: the group part of " + inQuotes(user) + " is empty");
  }
  out.user = std::string(parts.user);
  out.uid = parseId(parts.user);
  if (allDigits(parts.user) && !out.uid) {
    return invalidArgument("user: uid " + out.user + " is out of range (at most 4294967295)");
  }
  if (parts.group) {
    out.group = std::string(*parts.group);
    out.gid = parseId(*parts.group);
    if (allDigits(*parts.group) && !out.gid) {
      return invalidArgument("user: gid " + *out.group + " is out of range (at most 4294967295)");
    }
  }
  return out;
}

bool UserRequest::needsFiles() const { return !text.empty() && !(uid && gid); }

Result<ProcessUser> resolveUser(const UserRequest& user, const FileReader& read) {
  ProcessUser out;
  if (user.text.empty()) {
    return out;
  }
  Files files(user.text, read);
  std::optional<std::string> name;  // whose group memberships count
  if (user.uid) {
    out.uid = *user.uid;
    if (!user.group) {
      auto passwd = files.passwd();
      if (!passwd) {
        return passwd.error();
      }
      if (auto entry = findPasswd(*passwd, std::nullopt, user.uid)) {
        out.gid = entry->gid;
        name = std::move(entry->name);
      }
    }
  } else {
    auto passwd = files.passwd();
    if (!passwd) {
      return passwd.error();
    }
    auto entry = findPasswd(*passwd, user.user, std::nullopt);
    if (!entry) {
      return invalidArgument("user " + inQuotes(user.text) +
                             ": no such user in the container's /etc/passwd");
    }
    out.uid = entry->uid;
    out.gid = entry->gid;
    name = user.user;
  }

  if (user.gid) {
    out.gid = *user.gid;
  } else if (user.group) {
    auto named = namedGroupId(user.text, *user.group, files);
    if (!named) {
      return named.error();
    }
    out.gid = *named;
  }

  if (name) {
    CONTD_RETURN_IF_ERROR(addSupplementaryGroups(*name, files, out));
  }
  return out;
}

FileReader rootfsFileReader(std::filesystem::path rootfs) {
  return [rootfs = std::move(rootfs)](const std::string& path) {
    return readInRoot(rootfs, path, kMaxUserFileBytes);
  };
}

}  // namespace contd::container
