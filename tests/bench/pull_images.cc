// The pull benchmark's images: built in memory (layers of pseudo-random bytes from a fixed
// seed, so that every run pushes the same digests and compression does not shrink them) and
// pushed once to the loopback registry with skopeo.

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "tests/bench/pull_bench.h"
#include "tests/integration/image_archives.h"

namespace contd::bench::pull {

namespace {

// The OCI name of this machine's architecture, for the images' config.
std::string ociArchitecture() {
  utsname names{};
  ::uname(&names);
  const std::string machine = names.machine;
  if (machine == "x86_64") {
    return "amd64";
  }
  if (machine == "aarch64") {
    return "arm64";
  }
  return machine;
}

std::string randomBytes(std::uint64_t size, std::mt19937_64& rng) {
  std::string bytes(size, '\0');
  for (std::uint64_t i = 0; i < size; i += 8) {
    const std::uint64_t word = rng();
    std::memcpy(bytes.data() + i, &word, std::min<std::uint64_t>(8, size - i));
  }
  return bytes;
}

}  // namespace

std::string buildArchive(const ImageSpec& spec, std::uint64_t seed, const std::string& ref_name,
                         std::uint64_t* blob_bytes) {
  std::mt19937_64 rng(seed);
  std::vector<support::TarFile> files{{"oci-layout", '0', R"({"imageLayoutVersion":"1.0.0"})"},
                                      {"blobs/", '5', ""},
                                      {"blobs/sha256/", '5', ""}};
  *blob_bytes = 0;
  auto addBlob = [&](std::string data) {
    const std::string digest = support::sha256Of(data);
    *blob_bytes += data.size();
    files.push_back({"blobs/sha256/" + digest.substr(7), '0', std::move(data)});
    return digest;
  };
  nlohmann::json layers = nlohmann::json::array();
  nlohmann::json diff_ids = nlohmann::json::array();
  for (int i = 1; i <= spec.layers; ++i) {
    const std::string tar =
        support::makeTar({{"data/", '5', "", 0755},
                          {"data/layer-" + std::to_string(i) + ".bin", '0',
                           randomBytes(spec.layer_bytes, rng), 0644}});
    diff_ids.push_back(support::sha256Of(tar));
    std::string compressed = support::gzip(tar);
    const std::size_t size = compressed.size();
    layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                      {"digest", addBlob(std::move(compressed))},
                      {"size", size}});
  }
  const std::string config =
      nlohmann::json{{"architecture", ociArchitecture()},
                     {"os", "linux"},
                     {"config", {{"Env", {"PATH=/usr/bin:/bin"}}, {"Cmd", {"/bin/sh"}}}},
                     {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
          .dump();
  const std::string manifest =
      nlohmann::json{{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", addBlob(config)},
                       {"size", config.size()}}},
                     {"layers", layers}}
          .dump();
  const std::uint64_t without_manifest = *blob_bytes;
  const std::string manifest_digest = addBlob(manifest);
  *blob_bytes = without_manifest;  // the manifest comes from /manifests/, not /blobs/
  const std::string index =
      nlohmann::json{
          {"schemaVersion", 2},
          {"manifests",
           {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
             {"digest", manifest_digest},
             {"size", manifest.size()},
             {"annotations", {{"org.opencontainers.image.ref.name", ref_name}}}}}}}
          .dump();
  files.push_back({"index.json", '0', index});
  return support::makeTar(files);
}

Status PullBench::pushImage(const ImageSpec& spec) {
  PushedImage image;
  image.spec = spec;
  image.ref = registry_->host() + "/" + spec.repo + ":1";
  image.blob_count = static_cast<std::size_t>(spec.layers) + 1;
  std::fprintf(stderr, "bench_pull: building and pushing %s:1 (%d layers of %s MiB)\n",
               spec.repo.c_str(), spec.layers, format1(mib(spec.layer_bytes)).c_str());
  const fs::path archive = work_->path() / (spec.label + ".tar");
  {
    const std::string data = buildArchive(spec, options_.seed, spec.repo + ":1", &image.blob_bytes);
    std::ofstream out(archive, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      return internalError("write '" + archive.string() + "' failed");
    }
  }
  const Status pushed = registry_->push(archive.string(), "oci-archive", spec.repo + ":1");
  std::error_code ec;
  fs::remove(archive, ec);
  CONTD_RETURN_IF_ERROR(pushed);
  images_.push_back(std::move(image));
  return okStatus();
}

}  // namespace contd::bench::pull
