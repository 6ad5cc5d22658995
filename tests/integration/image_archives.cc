#include "tests/integration/image_archives.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "modules/common/digest.h"

namespace contd::testing {
namespace {

// size-1 octal digits, zero-padded, then NUL.
void octal(char* field, std::size_t size, std::uint64_t value) {
  for (std::size_t i = size - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  field[size - 1] = '\0';
}

}  // namespace

std::string makeTar(const std::vector<TarFile>& files) {
  std::string out;
  for (const auto& file : files) {
    char header[512] = {};
    std::strncpy(header, file.name.c_str(), 99);
    octal(header + 100, 8, file.type == '5' ? 0755 : file.mode);
    octal(header + 108, 8, 0);
    octal(header + 116, 8, 0);
    const std::uint64_t size = file.type == '0' ? file.data.size() : 0;
    octal(header + 124, 12, size);
    octal(header + 136, 12, 1700000000);
    header[156] = file.type;
    if (file.type == '2') {
      std::strncpy(header + 157, file.data.c_str(), 99);
    }
    std::memcpy(header + 257, "ustar", 6);
    std::memcpy(header + 263, "00", 2);
    std::memset(header + 148, ' ', 8);
    unsigned sum = 0;
    for (const char c : header) {
      sum += static_cast<unsigned char>(c);
    }
    octal(header + 148, 7, sum);  // six digits, NUL, and the space kept from above
    out.append(header, sizeof(header));
    if (size > 0) {
      out += file.data;
      out.append((512 - size % 512) % 512, '\0');
    }
  }
  out.append(1024, '\0');
  return out;
}

std::string gzip(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string sha256Of(const std::string& data) { return contd::sha256Digest(data); }

Result<TestImage> testImage(const std::string& busybox) {
  std::ifstream in(busybox, std::ios::binary);
  if (!in) {
    return notFound("read '" + busybox + "'");
  }
  std::stringstream content;
  content << in.rdbuf();
  TestImage image;
  image.layers.push_back(makeTar({
      {"bin/", '5', "", 0755},
      {"bin/busybox", '0', content.str(), 0755},
      {"bin/sh", '2', "busybox", 0777},
      {"bin/ls", '2', "busybox", 0777},
      {"bin/cat", '2', "busybox", 0777},
      {"etc/", '5', "", 0755},
      {"etc/hello", '0', "hello\n", 0644},
      {"dev/", '5', "", 0755},
      {"proc/", '5', "", 0755},
      {"sys/", '5', "", 0755},
      {"tmp/", '5', "", 01777},
  }));
  image.layers.push_back(makeTar({
      {"etc/", '5', "", 0755},
      {"etc/.wh.hello", '0', "", 0644},
      {"etc/second", '0', "second\n", 0644},
  }));
  nlohmann::json diff_ids = nlohmann::json::array();
  for (const auto& layer : image.layers) {
    diff_ids.push_back(sha256Of(layer));
  }
  image.config = nlohmann::json{
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config",
       {{"Cmd", {"/bin/ls", "/etc"}},
        {"Env", {"PATH=/bin", "FROM_IMAGE=yes"}},
        {"WorkingDir", "/"}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
                     .dump();
  return image;
}

Result<TestImage> userTestImage(const std::string& busybox) {
  auto image = testImage(busybox);
  if (!image) {
    return image.error();
  }
  image->layers.push_back(makeTar({
      {"bin/", '5', "", 0755},
      {"bin/id", '2', "busybox", 0777},
      {"bin/sleep", '2', "busybox", 0777},
      {"etc/", '5', "", 0755},
      {"etc/passwd", '0', "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n", 0644},
      {"etc/group", '0', "root:x:0:\napp:x:1000:\nextra:x:2000:app\n", 0644},
  }));
  auto config = nlohmann::json::parse(image->config);
  config["config"]["User"] = "app";
  config["rootfs"]["diff_ids"].push_back(sha256Of(image->layers.back()));
  image->config = config.dump();
  return image;
}

std::string ociArchive(const TestImage& image, const std::string& ref_name) {
  std::vector<TarFile> files{{"oci-layout", '0', R"({"imageLayoutVersion":"1.0.0"})"},
                             {"blobs/", '5', ""},
                             {"blobs/sha256/", '5', ""}};
  const auto blob = [&](const std::string& data) {
    files.push_back({"blobs/sha256/" + sha256Of(data).substr(7), '0', data});
  };
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t i = 0; i < image.layers.size(); ++i) {
    const bool compress = i == 0;
    const std::string data = compress ? gzip(image.layers[i]) : image.layers[i];
    blob(data);
    layers.push_back({{"mediaType", compress ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                             : "application/vnd.oci.image.layer.v1.tar"},
                      {"digest", sha256Of(data)},
                      {"size", data.size()}});
  }
  blob(image.config);
  const std::string manifest =
      nlohmann::json{{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", sha256Of(image.config)},
                       {"size", image.config.size()}}},
                     {"layers", layers}}
          .dump();
  blob(manifest);
  const std::string index =
      nlohmann::json{
          {"schemaVersion", 2},
          {"manifests",
           {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
             {"digest", sha256Of(manifest)},
             {"size", manifest.size()},
             {"platform", {{"os", "linux"}, {"architecture", "amd64"}}},
             {"annotations", {{"org.opencontainers.image.ref.name", ref_name}}}}}}}
          .dump();
  files.push_back({"index.json", '0', index});
  return makeTar(files);
}

std::string dockerArchive(const TestImage& image, const std::string& repo_tag) {
  const std::string config_name = sha256Of(image.config).substr(7) + ".json";
  std::vector<TarFile> files{{config_name, '0', image.config}};
  nlohmann::json layer_paths = nlohmann::json::array();
  for (const auto& layer : image.layers) {
    const std::string dir = sha256Of(layer).substr(7, 20);
    files.push_back({dir + "/", '5', ""});
    files.push_back({dir + "/VERSION", '0', "1.0"});
    files.push_back({dir + "/layer.tar", '0', layer});
    layer_paths.push_back(dir + "/layer.tar");
  }
  files.push_back({"manifest.json", '0',
                   nlohmann::json::array({{{"Config", config_name},
                                           {"RepoTags", {repo_tag}},
                                           {"Layers", layer_paths}}})
                       .dump()});
  files.push_back({"repositories", '0', "{}"});
  return makeTar(files);
}

}  // namespace contd::testing
