// contd: the container daemon. Wiring only, top to bottom:
//   flags and config -> loggers -> containerd client -> container service -> gRPC API on a
//   unix socket -> wait for SIGTERM/SIGINT -> stop the API and exit 0.
// Containers are never touched on the way out: they belong to containerd's shims and keep
// running while contd is stopped, restarted or upgraded.

#include <chrono>
#include <cstdio>
#include <string_view>
#include <vector>

#include "modules/api_server/api_server.h"
#include "modules/common/logging.h"
#include "modules/container/service.h"
#include "modules/container/supervisor.h"
#include "modules/containerd/grpc_client.h"
#include "modules/daemon/config.h"
#include "modules/daemon/lifecycle.h"

namespace {

using std::chrono::milliseconds;

constexpr int kExitUsage = 2;  // bad flags or config, as with most Unix tools
constexpr milliseconds kStopGrace{5000};

contd::container::ServiceOptions serviceOptions(const contd::daemon::Config& config) {
  contd::container::ServiceOptions options;
  options.log_root = config.log_root;
  options.default_shutdown_timeout = milliseconds(config.default_shutdown_timeout_ms);
  options.task_create_timeout = milliseconds(config.task_create_timeout_ms);
  options.default_pids_limit = config.default_pids_limit;
  return options;
}

contd::container::RestartPolicy restartPolicy(const contd::daemon::Config& config) {
  contd::container::RestartPolicy policy;
  policy.initial_delay = milliseconds(config.restart_initial_delay_ms);
  policy.max_delay = milliseconds(config.restart_max_delay_ms);
  policy.max_failures = static_cast<std::uint32_t>(config.restart_max_failures);
  policy.window = milliseconds(config.restart_window_ms);
  return policy;
}

contd::api::ApiServerOptions apiOptions(const contd::daemon::Config& config) {
  contd::api::ApiServerOptions options;
  options.listener.path = config.listen;
  options.listener.group = config.socket_group;
  options.listen_fd = contd::daemon::systemdListenFd();
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked signals.
  contd::daemon::TerminationSignals signals;

  const std::vector<std::string_view> args(argv + 1, argv + argc);
  auto flags = contd::daemon::parseFlags(args);
  if (!flags) {
    std::fprintf(stderr, "contd: %s\nTry 'contd --help'.\n", flags.error().message.c_str());
    return kExitUsage;
  }
  if (flags->help) {
    std::fputs(contd::daemon::usage().c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    std::printf("contd %s\n", CONTD_VERSION);
    return 0;
  }
  auto config = contd::daemon::resolveConfig(*flags);
  if (!config) {
    std::fprintf(stderr, "contd: %s\n", config.error().message.c_str());
    return kExitUsage;
  }

  contd::log::init(config->log_level);
  const auto log = contd::log::contd();
  log->info("starting version={} containerd={} listen={} log_root={}", CONTD_VERSION,
            config->containerd_socket, config->listen, config->log_root);

  auto client = contd::daemon::connectContainerd(config->containerd_socket, signals);
  if (!client) {
    // kUnavailable only when a stop signal came while waiting for containerd: a clean stop.
    const bool stopped = client.error().code == contd::Code::kUnavailable;
    log->log(stopped ? spdlog::level::info : spdlog::level::err, "not started: {}",
             client.error().message);
    return stopped ? 0 : 1;
  }

  contd::container::ContainerService service(**client, serviceOptions(*config));
  // Adopts running containers untouched and restarts those that exited while contd was away.
  contd::container::Supervisor supervisor(**client, service, restartPolicy(*config));
  supervisor.start();

  auto api = contd::api::ApiServer::start(service, apiOptions(*config));
  if (!api) {
    log->error("not started: API server: {}", api.error().message);
    return 1;
  }
  log->info("ready socket={}", (*api)->socketPath().string());
  contd::daemon::notifySystemd("READY=1\nSTATUS=serving on " + (*api)->socketPath().string());

  const int sig = contd::daemon::waitForTermination(signals);
  log->info("stopping signal={}; containers keep running", sig);
  contd::daemon::notifySystemd("STOPPING=1");
  (*api)->stop(kStopGrace);
  supervisor.stop();
  log->info("stopped");
  return 0;
}
