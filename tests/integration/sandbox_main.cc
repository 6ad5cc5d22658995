// contd-test-sandbox: the real parts of an integration test, for the shell tests that drive
// contctl from outside (contctl_tmux_test.sh): a private containerd, a busybox rootfs, a
// network namespace, a temp dir and the build's contd on them, made and removed by the same
// support code as the C++ fixtures (daemon_fixture.h).
//
//   contd-test-sandbox CONTD CONTCTL   (the built binaries)
//
// Prints shell assignments on stdout once everything runs, then the line "ready":
//   socket=... netns=... rootfs=... ns=... dir=...
// and waits until its stdin ends (or SIGTERM/SIGINT); then removes everything: contd, the
// namespace's containers (purgeNamespace), the network namespace, the rootfs, the temp dir
// and containerd. Exit 0, or 77 when a prerequisite is missing (1 with CI=true), 1 when a
// part does not start (the reason on stderr).

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/containerd_cleanup.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/require.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace {

using namespace contd;
using namespace contd::testing;

volatile sig_atomic_t g_stop = 0;
void onSignal(int) { g_stop = 1; }

// Until stdin ends or a signal comes.
void waitForTheEnd() {
  char buffer[256];
  while (g_stop == 0) {
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&fd, 1, 200) > 0 && ::read(STDIN_FILENO, buffer, sizeof buffer) <= 0) {
      return;
    }
  }
}

int fail(const std::string& what) {
  std::cerr << "contd-test-sandbox: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    return fail("usage: contd-test-sandbox CONTD CONTCTL");
  }
  log::init("warn");
  const std::string missing = missingContainerdPrerequisites();
  if (!missing.empty()) {
    std::cerr << "contd-test-sandbox: missing: " << missing << "\n";
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true" ? 1 : 77;
  }
  struct sigaction action {};
  action.sa_handler = onSignal;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);

  auto containerd = PrivateContainerd::start();
  if (!containerd) {
    return fail(containerd.error().message);
  }
  auto rootfs = BusyboxRootfs::build();
  auto netns = NetworkNamespace::create("contd-sh");
  auto dir = TempDir::make("contd-sh");
  if (!rootfs || !netns || !dir) {
    return fail(!rootfs ? rootfs.error().message
                        : !netns ? netns.error().message : dir.error().message);
  }
  auto client = containerd::GrpcClient::connect((*containerd)->socketPath(),
                                                std::chrono::seconds(5));
  if (!client) {
    return fail(client.error().message);
  }
  const std::string ns = uniqueName("sh");
  int status = 0;
  {
    ContdDaemon::Options options;
    options.binary = argv[1];
    options.containerd_socket = (*containerd)->socketPath();
    options.dir = dir->path() / "contd";
    auto daemon = ContdDaemon::start(std::move(options));
    if (!daemon) {
      status = fail(daemon.error().message);
    } else {
      std::printf("socket=%s\nnetns=%s\nrootfs=%s\nns=%s\ndir=%s\ncontctl=%s\nready\n",
                  (*daemon)->socketPath().c_str(), (*netns)->name().c_str(),
                  rootfs->path().c_str(), ns.c_str(), dir->string().c_str(), argv[2]);
      std::fflush(stdout);
      waitForTheEnd();
    }
  }
  if (Status purged = purgeNamespace(**client, ns); !purged) {
    status = fail(purged.error().message);
  }
  if (Status removed = (*netns)->remove(); !removed) {
    status = fail(removed.error().message);
  }
  return status;
}
