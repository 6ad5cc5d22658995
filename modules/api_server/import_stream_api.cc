// ContainersApi::ImportImageStream: an image archive sent by the caller, spooled to an
// unnamed temporary file of the daemon's (O_TMPFILE: nothing stays behind, even if contd
// dies) and imported from there like ImportImage's file.

#include "modules/api_server/containers_api.h"
#include "modules/api_server/containers_api_serve.h"
#include "modules/api_server/image_calls.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "modules/common/names.h"
#include "modules/common/unique_fd.h"
#include "modules/images/image_names.h"

namespace contd::api {
namespace {

// Where the archive is spooled: $TMPDIR, else /var/tmp (a disk, not the tmpfs /tmp often
// is: archives can be large).
std::string spoolDir() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr && dir[0] == '/' ? dir : "/var/tmp";
}

Status writeAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return sysError("import: spool the archive to '" + spoolDir() + "'", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return okStatus();
}

// Reads the data messages after the header into `fd`, within the limits.
Status spool(grpc::ServerReader<v1::ImportImageChunk>* reader, int fd, std::uint64_t declared) {
  const std::uint64_t limit = declared != 0 ? declared : kMaxStreamedArchiveBytes;
  std::uint64_t received = 0;
  v1::ImportImageChunk chunk;
  while (reader->Read(&chunk)) {
    if (chunk.has_header()) {
      return invalidArgument("header: sent twice; only the first message is the header");
    }
    received += chunk.data().size();
    if (received > limit) {
      return invalidArgument(
          declared != 0 ? "size: the archive is longer than the " + std::to_string(declared) +
                              " bytes the header said"
                        : "archive: larger than the limit of " +
                              std::to_string(kMaxStreamedArchiveBytes) + " bytes");
    }
    CONTD_RETURN_IF_ERROR(writeAll(fd, chunk.data()));
  }
  if (declared != 0 && received != declared) {
    return invalidArgument("size: the archive ended after " + std::to_string(received) +
                           " of the " + std::to_string(declared) + " bytes the header said");
  }
  return okStatus();
}

}  // namespace

grpc::Status ContainersApi::ImportImageStream(grpc::ServerContext* context,
                                              grpc::ServerReader<v1::ImportImageChunk>* reader,
                                              v1::ImportImageResponse* response) {
  v1::ImportImageChunk first;
  const bool has_first = reader->Read(&first);
  const v1::ImportImageHeader& header = first.header();
  return serve(context, "ImportImageStream", header.namespace_(), header.name(),
               [&]() -> Status {
    if (!has_first || !first.has_header()) {
      return invalidArgument("header: the first message must be the header");
    }
    auto store = imageStore(core_, header.namespace_());
    if (!store) {
      return store.error();
    }
    CONTD_RETURN_IF_ERROR(images::checkImageName("name", header.name()));
    UniqueFd fd(::open(spoolDir().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      return sysError("import: open a temporary file in '" + spoolDir() + "'", errno);
    }
    CONTD_RETURN_IF_ERROR(spool(reader, fd.get(), header.size()));
    const std::string path = "/proc/self/fd/" + std::to_string(fd.get());
    auto info = (*store)->importImage(header.namespace_(), path, header.name());
    if (!info) {
      // The spool file's path means nothing to the caller.
      Error error = info.error();
      for (auto at = error.message.find(path); at != std::string::npos;
           at = error.message.find(path)) {
        error.message.replace(at, path.size(), "the streamed archive");
      }
      return error;
    }
    imageToProto(*info, response->mutable_image());
    return okStatus();
  });
}

}  // namespace contd::api
