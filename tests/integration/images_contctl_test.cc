// contctl's image commands on real parts: import (a path contd reads, a relative path or
// stdin sent over the call), images with their creation time, run and rmi by name, and the
// name rule (found as given, else normalised). The store's own tests: images_test.cc.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include "modules/images/grpc_image_store.h"
#include "modules/images/image_names.h"

#include <sys/mount.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <grpcpp/grpcpp.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/logging.h"
#include "modules/container/log_reader.h"
#include "modules/container/service.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/container_log.h"
#include "tests/integration/image_archives.h"
#include "tests/integration/image_fixture.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/daemon_fixture.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::images {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;

class ImagesContctlIT : public support::ImageFixture {
protected:
  ImagesContctlIT() : ImageFixture({"contd-images-ctl", "imc", false}) {}
};

TEST_F(ImagesContctlIT, ContctlImportsListsRunsAndRemovesAnImage) {
  auto netns = support::NetworkNamespace::create("img");
  ASSERT_TRUE(netns) << netns.error().message;
  auto daemon = support::startContd(containerd_->socketPath(), dir_->path() / "contd");
  ASSERT_TRUE(daemon) << daemon.error().message;
  const auto ctl = [&](const std::vector<std::string>& args) {
    return support::runContctl((*daemon)->socketPath(), args, 60s);
  };
  const auto archive = writeArchive("ctl.tar", support::ociArchive(image_, "ctl/img:1"));

  auto imported = ctl({"import", ns_, archive, "--name", "ctl/named:1"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("ctl/named:1"), std::string::npos) << imported.out;
  auto listed = ctl({"images", "-n", ns_});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("ctl/named:1"), std::string::npos) << listed.out;

  auto run = ctl({"run", ns_, "c1", "--image", "ctl/named:1", "--netns", (*netns)->name()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto refused = ctl({"rmi", ns_, "ctl/named:1"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("in use by container 'c1'"), std::string::npos) << refused.err;

  auto removed = ctl({"rm", ns_, "c1"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  auto has = store_->hasSnapshot(ns_, "c1");
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_FALSE(*has);
  auto rmi = ctl({"rmi", ns_, "ctl/named:1"});
  EXPECT_EQ(rmi.exit_code, 0) << rmi.err;
  listed = ctl({"images", "-n", ns_});
  EXPECT_EQ(listed.out.find("ctl/named:1"), std::string::npos) << listed.out;

  auto bad = ctl({"import", ns_, dir_->string() + "/missing.tar"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("missing.tar"), std::string::npos) << bad.err;
}

// ImageInfo.created: the config's "created" when it has one, else when containerd registered
// the image; contctl images shows it as an age, --json raw.
TEST_F(ImagesContctlIT, ImagesCarryWhenTheyWereMade) {
  auto daemon = support::startContd(containerd_->socketPath(), dir_->path() / "contd");
  ASSERT_TRUE(daemon) << daemon.error().message;
  const auto ctl = [&](const std::vector<std::string>& args) {
    return support::runContctl((*daemon)->socketPath(), args, 60s);
  };
  support::TestImage dated = image_;
  auto config = nlohmann::json::parse(dated.config);
  config["created"] = "2020-01-02T03:04:05.5Z";
  dated.config = config.dump();
  const auto before = std::chrono::system_clock::now();
  ASSERT_EQ(ctl({"import", ns_, writeArchive("dated.tar", support::ociArchive(dated, "dated:1"))})
                .exit_code,
            0);
  ASSERT_EQ(ctl({"import", ns_, writeArchive("plain.tar", support::ociArchive(image_, "plain:1"))})
                .exit_code,
            0);
  const auto ns = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  };
  auto images = store_->listImages(ns_);
  ASSERT_TRUE(images) << images.error().message;
  ASSERT_EQ(images->size(), 2u);
  for (const auto& image : *images) {
    if (image.name == "dated:1") {
      EXPECT_EQ(image.created_ns, 1577934245'500'000'000LL);
    } else {
      EXPECT_GE(image.created_ns, ns(before) - 1'000'000'000LL) << image.name;
      EXPECT_LE(image.created_ns, ns(std::chrono::system_clock::now())) << image.name;
    }
  }
  auto table = ctl({"images", "-n", ns_});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("CREATED"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("years ago"), std::string::npos) << table.out;
  EXPECT_TRUE(table.out.find("seconds ago") != std::string::npos ||
              table.out.find("Less than a second ago") != std::string::npos)
      << table.out;
  auto json = ctl({"--json", "images", "-n", ns_});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"created\": \"2020-01-02T03:04:05.500Z\""), std::string::npos)
      << json.out;
}

// contctl import of a relative path or of stdin sends the archive over ImportImageStream;
// contd spools it and imports it as ImportImage does; a stream that breaks its header's
// promise, or a bad name, is refused naming the field.
TEST_F(ImagesContctlIT, ContctlSendsARelativeArchiveOrStdinOverTheCall) {
  auto daemon = support::startContd(containerd_->socketPath(), dir_->path() / "contd");
  ASSERT_TRUE(daemon) << daemon.error().message;
  const std::string socket = (*daemon)->socketPath();
  const auto ctl = [&](const std::vector<std::string>& args) {
    return support::runContctl(socket, args, 60s);
  };
  const auto archive = writeArchive("sent.tar", support::ociArchive(image_, "ctl/sent:1"));
  const std::string relative =
      std::filesystem::relative(archive, std::filesystem::current_path()).string();
  ASSERT_NE(relative.front(), '/');

  auto sent = ctl({"import", ns_, relative});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(sent.out.rfind("ctl/sent:1  sha256:", 0), 0u) << sent.out;
  EXPECT_EQ(sent.err, "") << "no progress bar without a terminal";
  auto image = store_->getImage(ns_, "ctl/sent:1");
  ASSERT_TRUE(image) << image.error().message;

  const auto piped = [&](const std::string& file, const std::string& name) {
    auto out = support::runCommand({"sh", "-c", "exec \"$0\" --socket \"$1\" import \"$2\" - "
                                                "--name \"$3\" < \"$4\"",
                                    CONTCTL_BIN, socket, ns_, name, file},
                                   60s);
    EXPECT_TRUE(out) << out.error().message;
    return out ? *out : support::CommandResult{};
  };
  auto stdin_import = piped(archive, "ctl/stdin:1");
  ASSERT_EQ(stdin_import.exit_code, 0) << stdin_import.err;
  EXPECT_EQ(stdin_import.out.rfind("ctl/stdin:1  sha256:", 0), 0u) << stdin_import.out;
  auto from_stdin = store_->getImage(ns_, "ctl/stdin:1");
  ASSERT_TRUE(from_stdin) << from_stdin.error().message;
  EXPECT_EQ(from_stdin->manifest_digest, image->manifest_digest);

  auto bad_name = piped(archive, "Bad Name");
  EXPECT_EQ(bad_name.exit_code, 1);
  EXPECT_NE(bad_name.err.find("INVALID_ARGUMENT: name 'Bad Name': "), std::string::npos)
      << bad_name.err;
  const auto truncated = writeArchive("cut.tar", support::ociArchive(image_, "x:1").substr(0, 3000));
  auto cut = piped(truncated, "ctl/cut:1");
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_NE(cut.err.find("INVALID_ARGUMENT: "), std::string::npos) << cut.err;
  EXPECT_NE(cut.err.find("the streamed archive"), std::string::npos) << cut.err;
  EXPECT_EQ(cut.err.find("/proc/self/fd"), std::string::npos) << cut.err;

  // The API: a stream whose length is not the header's size, or without a header.
  auto stub = v1::Containers::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  const auto stream = [&](const std::vector<v1::ImportImageChunk>& chunks) {
    grpc::ClientContext context;
    v1::ImportImageResponse response;
    auto writer = stub->ImportImageStream(&context, &response);
    for (const auto& chunk : chunks) {
      if (!writer->Write(chunk)) {
        break;
      }
    }
    writer->WritesDone();
    return writer->Finish();
  };
  v1::ImportImageChunk header;
  header.mutable_header()->set_namespace_(ns_);
  header.mutable_header()->set_size(10);
  v1::ImportImageChunk data;
  data.set_data(std::string(100, 'x'));
  auto longer = stream({header, data});
  EXPECT_EQ(longer.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(longer.error_message().rfind("size: ", 0), 0u) << longer.error_message();
  header.mutable_header()->set_size(1000);
  auto shorter = stream({header, data});
  EXPECT_EQ(shorter.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(shorter.error_message().rfind("size: ", 0), 0u) << shorter.error_message();
  auto headless = stream({data});
  EXPECT_EQ(headless.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(headless.error_message().rfind("header: ", 0), 0u) << headless.error_message();
}

// Imported names stay as given and are found exactly, before the normalised form
// (docs/decisions/image-names.md); a name that is no reference is refused by the daemon.
TEST_F(ImagesContctlIT, ImportNamesAreReferencesFoundAsGivenBeforeTheirNormalisedForm) {
  auto daemon = support::startContd(containerd_->socketPath(), dir_->path() / "contd");
  ASSERT_TRUE(daemon) << daemon.error().message;
  const auto ctl = [&](const std::vector<std::string>& args) {
    return support::runContctl((*daemon)->socketPath(), args, 60s);
  };
  const auto archive = writeArchive("names.tar", support::ociArchive(image_, "ctl/img:1"));

  auto bad = ctl({"import", ns_, archive, "--name", "Bad Name"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("INVALID_ARGUMENT: name 'Bad Name': "), std::string::npos) << bad.err;
  for (const std::string name : {"named", "ctl/named:1", "docker.io/library/named:latest"}) {
    auto imported = ctl({"import", ns_, archive, "--name", name});
    ASSERT_EQ(imported.exit_code, 0) << name << ": " << imported.err;
  }
  auto named = store_->getImage(ns_, "named");
  ASSERT_TRUE(named) << named.error().message;
  // Exact first: "named" is the imported "named", not docker.io/library/named:latest.
  auto exact = findImage(*store_, ns_, "named");
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_EQ(exact->name, "named");
  auto normalised = findImage(*store_, ns_, "named:latest");
  ASSERT_TRUE(normalised) << normalised.error().message;
  EXPECT_EQ(normalised->name, "docker.io/library/named:latest");
  // rmi takes the same rule: "named" removes "named" only, then the normalised one.
  ASSERT_EQ(ctl({"rmi", ns_, "named"}).exit_code, 0);
  EXPECT_FALSE(store_->getImage(ns_, "named"));
  EXPECT_TRUE(store_->getImage(ns_, "docker.io/library/named:latest"));
  ASSERT_EQ(ctl({"rmi", ns_, "named"}).exit_code, 0);
  EXPECT_FALSE(store_->getImage(ns_, "docker.io/library/named:latest"));
  auto slashed = ctl({"rmi", ns_, "ctl/named:1"});
  EXPECT_EQ(slashed.exit_code, 0) << slashed.err;
}

}  // namespace
}  // namespace contd::images
