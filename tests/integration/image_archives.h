#pragma once
// Test images built by hand: tar archives, gzip, and the two archive formats contd imports
// (OCI image layout, docker save), so that image tests need no registry and no tool.
//
// The two-layer image of testImage():
//   layer 1: bin/busybox (the host's static busybox), bin/sh, bin/ls -> busybox,
//            etc/hello, and empty dev/ proc/ sys/ tmp/
//   layer 2: etc/.wh.hello (deletes etc/hello), etc/second
//   config:  Cmd ["/bin/ls", "/etc"], Env PATH=/bin and FROM_IMAGE=yes, WorkingDir /
// userTestImage() (below) adds a layer with /etc/passwd and /etc/group and a User.
//
// Threading: any; no shared state.

#include <string>
#include <vector>

#include "modules/common/result.h"

namespace contd::testing {

struct TarFile {
  std::string name;
  char type = '0';  // '0' file, '5' directory, '2' symlink
  std::string data;  // file content, or the symlink's target
  unsigned mode = 0644;
};

// A ustar archive of `files`, with the two closing zero blocks.
std::string makeTar(const std::vector<TarFile>& files);
// gzip (RFC 1952) of `data`.
std::string gzip(const std::string& data);
// "sha256:<hex>".
std::string sha256Of(const std::string& data);

struct TestImage {
  std::vector<std::string> layers;  // uncompressed layer tars, bottom first
  std::string config;               // the image config JSON
};

// The image above; busybox is read from `busybox`.
Result<TestImage> testImage(const std::string& busybox);

// testImage() with a third layer and a user:
//   layer 3: bin/id, bin/sleep -> busybox, etc/passwd (root 0:0, app 1000:1000),
//            etc/group (root 0, app 1000, extra 2000 with member app)
//   config:  as testImage's, plus User "app"
Result<TestImage> userTestImage(const std::string& busybox);

// OCI image layout tarball: layer 1 gzip-compressed, layer 2 plain; index.json names the
// image `ref_name` (org.opencontainers.image.ref.name).
std::string ociArchive(const TestImage& image, const std::string& ref_name);
// docker save tarball (manifest.json, <hex>.json, <hex>/layer.tar) with RepoTags [repo_tag].
std::string dockerArchive(const TestImage& image, const std::string& repo_tag);

}  // namespace contd::testing
