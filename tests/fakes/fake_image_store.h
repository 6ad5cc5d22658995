#pragma once
// An in-memory ImageStore for unit tests of the container module: images as a map (only
// what Run reads of them), snapshots as a set of keys, and the files readImageFile finds
// in an image's layers as a map per chain id. It records the snapshot and file calls so a
// test can tell what Run touched. Import, pull and removal of images are not faked
// (kUnknown). Thread-safe.

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "modules/images/image_store.h"

namespace contd::testing {

class FakeImageStore : public images::ImageStore {
public:
  // One call of readImageFile, as asked.
  struct FileRead {
    std::string ns;
    std::string chain_id;
    std::string path;
    bool operator==(const FileRead&) const = default;
  };

  void addImage(const std::string& ns, images::ImageInfo info) {
    std::lock_guard lock(mutex_);
    images_[ns + "/" + info.name] = std::move(info);
  }
  // `path` ("/etc/passwd") holds `content` in the layers of `chain_id`.
  void addFile(const std::string& chain_id, const std::string& path, std::string content) {
    std::lock_guard lock(mutex_);
    files_[chain_id][path] = std::move(content);
  }
  std::vector<FileRead> fileReads() const {
    std::lock_guard lock(mutex_);
    return reads_;
  }
  std::size_t prepareCount() const {
    std::lock_guard lock(mutex_);
    return prepares_;
  }
  bool snapshotExists(const std::string& ns, const std::string& key) const {
    std::lock_guard lock(mutex_);
    return snapshots_.count(ns + "/" + key) != 0;
  }

  Result<images::ImageInfo> importImage(std::string_view, const std::string&,
                                        std::string_view) override {
    return makeError(Code::kUnknown, "not faked");
  }
  Result<images::ImageInfo> pullImage(std::string_view, const images::PullRequest&,
                                      const images::PullProgressFn&) override {
    return makeError(Code::kUnknown, "not faked");
  }
  Result<images::ImageInfo> getImage(std::string_view ns, std::string_view name) override {
    std::lock_guard lock(mutex_);
    auto it = images_.find(std::string(ns) + "/" + std::string(name));
    if (it == images_.end()) {
      return notFound("get image '" + std::string(name) + "' in '" + std::string(ns) +
                      "': not found");
    }
    return it->second;
  }
  Result<std::vector<images::ImageInfo>> listImages(std::string_view) override {
    return makeError(Code::kUnknown, "not faked");
  }
  Status removeImage(std::string_view, std::string_view) override {
    return makeError(Code::kUnknown, "not faked");
  }
  Result<std::vector<images::SnapshotMount>> prepareSnapshot(std::string_view ns,
                                                             std::string_view key,
                                                             std::string_view parent) override {
    std::lock_guard lock(mutex_);
    ++prepares_;
    if (!snapshots_.insert(std::string(ns) + "/" + std::string(key)).second) {
      return alreadyExists("snapshot '" + std::string(key) + "': already exists");
    }
    return mountsOf(key, parent);
  }
  Result<std::vector<images::SnapshotMount>> snapshotMounts(std::string_view ns,
                                                            std::string_view key) override {
    std::lock_guard lock(mutex_);
    if (snapshots_.count(std::string(ns) + "/" + std::string(key)) == 0) {
      return notFound("snapshot '" + std::string(key) + "': not found");
    }
    return mountsOf(key, "");
  }
  Status removeSnapshot(std::string_view ns, std::string_view key) override {
    std::lock_guard lock(mutex_);
    snapshots_.erase(std::string(ns) + "/" + std::string(key));
    return okStatus();
  }
  Result<bool> hasSnapshot(std::string_view ns, std::string_view key) override {
    return snapshotExists(std::string(ns), std::string(key));
  }
  Result<std::optional<std::string>> readImageFile(std::string_view ns, std::string_view chain_id,
                                                   const std::string& path,
                                                   std::size_t max_bytes) override {
    std::lock_guard lock(mutex_);
    reads_.push_back({std::string(ns), std::string(chain_id), path});
    auto layers = files_.find(std::string(chain_id));
    if (layers == files_.end()) {
      return std::optional<std::string>();
    }
    auto file = layers->second.find(path);
    if (file == layers->second.end()) {
      return std::optional<std::string>();
    }
    if (file->second.size() > max_bytes) {
      return invalidArgument("'" + path + "' is larger than " + std::to_string(max_bytes) +
                             " bytes");
    }
    return std::optional<std::string>(file->second);
  }

private:
  static std::vector<images::SnapshotMount> mountsOf(std::string_view key,
                                                     std::string_view parent) {
    std::vector<std::string> options = {"upperdir=/snapshots/" + std::string(key),
                                        "lowerdir=/layers/" + std::string(parent)};
    return {{"overlay", "overlay", std::move(options)}};
  }

  mutable std::mutex mutex_;
  std::map<std::string, images::ImageInfo> images_;
  std::map<std::string, std::map<std::string, std::string>> files_;
  std::set<std::string> snapshots_;
  std::vector<FileRead> reads_;
  std::size_t prepares_ = 0;
};

}  // namespace contd::testing
