// contd: the container daemon. Wiring only, top to bottom:
//   flags and config -> loggers -> containerd client -> container service -> gRPC API on a
//   unix socket -> wait for SIGTERM/SIGINT -> stop the API and exit 0.
// Containers are never touched on the way out: they belong to containerd's shims and keep
// running while contd is stopped, restarted or upgraded.

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "modules/api_server/api_server.h"
#include "modules/common/logging.h"
#include "modules/container/service.h"
#include "modules/container/proc_shim_host.h"
#include "modules/container/stale_execs.h"
#include "modules/container/supervisor.h"
#include "modules/containerd/grpc_client.h"
#include "modules/daemon/config.h"
#include "modules/daemon/containerd_lock.h"
#include "modules/daemon/daemon_info.h"
#include "modules/daemon/journal_sink.h"
#include "modules/daemon/lifecycle.h"
#include "modules/daemon/node_metrics.h"
#include "modules/images/grpc_image_store.h"
#include "modules/zbus/bridge.h"

namespace {

using std::chrono::milliseconds;

constexpr int kExitUsage = 2;  // bad flags or config, as with most Unix tools
constexpr milliseconds kStopGrace{5000};

// The log driver: as configured, else next to this executable (a build tree), else in
// <prefix>/libexec/contd/ of the prefix contd itself was installed to, else where this build's
// `cmake --install` puts it.
std::filesystem::path logShim(const contd::daemon::Config& config) {
  if (!config.log_shim.empty()) {
    return config.log_shim;
  }
  std::error_code ec;
  const auto exe_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec) {
    for (const auto& candidate : {exe_dir / "contd-shim-logs",
                                  exe_dir.parent_path() / "libexec" / "contd" / "contd-shim-logs"}) {
      if (::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
  }
  return CONTD_INSTALLED_LOG_SHIM;
}

contd::container::RetentionLimits retentionLimits(const contd::daemon::Config& config) {
  return {.max_age = milliseconds(config.log_retention_ms), .max_bytes = config.log_retention_size};
}

contd::container::ServiceOptions serviceOptions(const contd::daemon::Config& config) {
  contd::container::ServiceOptions options;
  options.log_root = config.log_root;
  options.log_shim = logShim(config);
  options.log_max_size = config.log_max_size;
  options.log_max_files = static_cast<unsigned>(config.log_max_files);
  options.log_policy = config.log_policy;
  options.log_rate_limit = config.log_rate_limit;
  options.log_retention = retentionLimits(config);
  options.default_shutdown_timeout = milliseconds(config.default_shutdown_timeout_ms);
  options.task_create_timeout = milliseconds(config.task_create_timeout_ms);
  options.default_pids_limit = config.default_pids_limit;
  options.mount_sources.assign(config.mount_sources.begin(), config.mount_sources.end());
  options.allow_elevated = config.allow_elevated;
  return options;
}

// The runtime and shim grouping `config` asks for, as this host can run them: an error
// naming the key when the runtime's binary is missing; a warning when crun cannot run here.
contd::Result<contd::container::RuntimeChoice> runtimeChoice(const contd::daemon::Config& config,
                                                             spdlog::logger& log) {
  contd::container::RuntimeChoice wanted;
  wanted.runtime = config.runtime;
  auto group = contd::container::parseShimGroup(config.shim_group, "shim_group");
  if (!group) {
    return group.error();
  }
  wanted.shim_group = *group;
  wanted.precompile_seccomp = config.seccomp_precompile;
  std::string warning;
  auto usable = contd::container::usableRuntime(wanted, contd::container::kDefaultCgroupRoot,
                                                &warning);
  if (!usable) {
    return usable.error();
  }
  if (!warning.empty()) {
    log.warn("{}", warning);
  }
  log.info("runtime={} shim_group={} seccomp_precompile={}", usable->runtime,
           contd::container::shimGroupName(usable->shim_group), usable->precompile_seccomp);
  return usable;
}

contd::container::RestartPolicy restartPolicy(const contd::daemon::Config& config) {
  contd::container::RestartPolicy policy;
  policy.initial_delay = milliseconds(config.restart_initial_delay_ms);
  policy.max_delay = milliseconds(config.restart_max_delay_ms);
  policy.max_failures = static_cast<std::uint32_t>(config.restart_max_failures);
  policy.window = milliseconds(config.restart_window_ms);
  return policy;
}

contd::api::ApiServerOptions apiOptions(const contd::daemon::Config& config,
                                        contd::api::DaemonInfoSource& info) {
  contd::api::ApiServerOptions options;
  options.info = &info;
  options.listener.path = config.listen;
  options.listener.group = config.socket_group;
  options.listen_fd = contd::daemon::systemdListenFd();
  return options;
}

// Step 1, flags and config. nullopt to go on, else what main() exits with (help, version,
// a usage error).
std::optional<int> parseConfig(int argc, char** argv, contd::daemon::Flags& flags,
                               contd::daemon::Config& config) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  auto parsed = contd::daemon::parseFlags(args);
  if (!parsed) {
    std::fprintf(stderr, "contd: %s\nTry 'contd --help'.\n", parsed.error().message.c_str());
    return kExitUsage;
  }
  if (parsed->help) {
    std::fputs(contd::daemon::usage().c_str(), stdout);
    return 0;
  }
  if (parsed->version) {
    std::printf("contd %s\n", CONTD_VERSION);
    return 0;
  }
  auto resolved = contd::daemon::resolveConfig(*parsed);
  if (!resolved) {
    std::fprintf(stderr, "contd: %s\n", resolved.error().message.c_str());
    return kExitUsage;
  }
  flags = std::move(*parsed);
  config = std::move(*resolved);
  return std::nullopt;
}

// Step 2, the loggers.
std::shared_ptr<spdlog::logger> startLoggers(const contd::daemon::Config& config) {
  // Under systemd with stderr going to the journal: natively, with the lines' fields
  // (NAMESPACE=, CONTAINER=, OP=, CODE=). Elsewhere text or JSON lines on stderr.
  if (contd::log::formatForStderr() == contd::log::Format::kJournal) {
    contd::log::setFormat(contd::log::Format::kJournal);  // the fallback's form
    contd::log::setSink(contd::daemon::makeJournalSink());
  } else {
    contd::log::setFormat(config.log_format == "json" ? contd::log::Format::kJson
                                                      : contd::log::Format::kPlain);
  }
  contd::log::init(config.log_level);
  auto log = contd::log::contd();
  log->info("starting version={} containerd={} listen={} log_root={}", CONTD_VERSION,
            config.containerd_socket, config.listen, config.log_root);
  return log;
}

// What the container service is built from; `image_store` must outlive the service.
struct ServiceParts {
  contd::UniqueFd containerd_lock;  // held for the daemon's life (containerd_lock.h)
  contd::container::ServiceOptions options;
  std::unique_ptr<contd::images::GrpcImageStore> image_store;
  std::unique_ptr<contd::container::ShimKeeper> keeper;  // none without contd-keeper
};

// The shim groups' keeper (shim_keeper.h): contd-keeper beside the log shim, its files in
// a folder beside containerd's socket (as the lock). None, with a warning, when the binary
// is missing: grouped shims then end with their last container.
std::unique_ptr<contd::container::ShimKeeper> shimKeeper(const contd::daemon::Config& config,
                                                         const std::filesystem::path& log_shim,
                                                         contd::containerd::Client& client,
                                                         spdlog::logger& log) {
  const auto binary = log_shim.parent_path() / "contd-keeper";
  if (::access(binary.c_str(), X_OK) != 0) {
    log.warn("no shim keeper: '{}' is not an executable file; a grouped shim ends with its "
             "last container", binary.string());
    return nullptr;
  }
  return std::make_unique<contd::container::ShimKeeper>(
      client, contd::container::KeeperOptions{
                  .binary = binary,
                  .root = contd::daemon::besideContainerd(config.containerd_socket,
                                                          ".contd-keeper"),
                  .keepalive = milliseconds(config.shim_keepalive_ms)});
}

// Step 4, what the container service needs beside the client: the containerd lock (one
// contd per containerd: a second would fight the first over every container), options,
// seccomp profile, a log shim that can run, the image store.
contd::Result<ServiceParts> serviceParts(const contd::daemon::Config& config,
                                         contd::containerd::GrpcClient& client,
                                         spdlog::logger& log) {
  auto lock = contd::daemon::lockContainerd(config.containerd_socket);
  if (!lock) {
    return lock.error();
  }
  auto seccomp_profile = contd::daemon::loadSeccompProfile(config.seccomp_profile);
  if (!seccomp_profile) {
    return seccomp_profile.error();
  }
  ServiceParts parts;
  parts.containerd_lock = std::move(*lock);
  auto& options = parts.options;
  options = serviceOptions(config);
  options.seccomp_profile = std::move(*seccomp_profile);
  auto runtime = runtimeChoice(config, log);
  if (!runtime) {
    return runtime.error();
  }
  options.runtime = std::move(*runtime);
  if (::access(options.log_shim.c_str(), X_OK) != 0) {
    return contd::failedPrecondition("log shim '" + options.log_shim.string() +
                                     "' is not an executable file (config key log_shim)");
  }
  log.info("log driver shim={} max_size={} max_files={} policy={}", options.log_shim.string(),
           options.log_max_size, options.log_max_files,
           options.log_policy == "drop" ? "drop rate=" + std::to_string(options.log_rate_limit)
                                        : options.log_policy);
  // Images (import, pull, run from an image) on the client's own channel to containerd:
  // whatever revives it after a containerd restart revives it for images too.
  contd::images::GrpcImageStore::Options image_options;
  image_options.parallel_fetches = config.pull_parallel_layers;
  auto image_store = contd::images::GrpcImageStore::create(client.connection(), image_options);
  if (!image_store) {
    return image_store.error();
  }
  parts.image_store = std::move(*image_store);
  options.images = parts.image_store.get();
  parts.keeper = shimKeeper(config, options.log_shim, client, log);
  options.keeper = parts.keeper.get();
  return parts;
}

// The servers in front of the service: the gRPC API and, when configured, the zbus bridge.
struct FrontEnds {
  std::unique_ptr<contd::api::ApiServer> api;
  std::unique_ptr<contd::zbus::Bridge> bridge;
};

// Step 5, the API server and the bridge. Errors say which of them failed.
contd::Result<FrontEnds> startFrontEnds(contd::container::ContainerService& service,
                                        const contd::daemon::Config& config,
                                        contd::api::DaemonInfoSource& info) {
  FrontEnds ends;
  auto api = contd::api::ApiServer::start(service, apiOptions(config, info));
  if (!api) {
    return api.error().wrap("API server");
  }
  ends.api = std::move(*api);
  // The zbus bridge for the node's Go modules, when a broker is configured. Redis need not
  // be up: the bridge connects (and reconnects) on its own.
  if (!config.broker.empty()) {
    auto started = contd::zbus::Bridge::start(
        service, {.broker = config.broker, .workers = config.zbus_workers});
    if (!started) {
      return started.error().wrap("zbus bridge");
    }
    ends.bridge = std::move(*started);
  }
  return ends;
}

// The metrics' settings (docs/metrics.md).
contd::daemon::NodeMetrics::Options metricsOptions(const contd::daemon::Config& config) {
  return {.version = CONTD_VERSION,
          .log_root = config.log_root,
          .textfile = config.metrics_textfile,
          .listen = config.metrics_listen};
}

// Step 5b, ready: the metrics serve, containerd answers a call (not just a connect; waited
// for while containerd is away, as for the first connection), the health service says
// SERVING (the notifier's probe keeps it up to date from now on), and systemd hears READY.
contd::Status becomeReady(contd::daemon::NodeMetrics& metrics,
                          contd::container::ContainerService& service, FrontEnds& ends,
                          contd::containerd::GrpcClient& client,
                          contd::daemon::TerminationSignals& signals, spdlog::logger& log) {
  CONTD_RETURN_IF_ERROR(metrics.start(service));
  CONTD_RETURN_IF_ERROR(contd::daemon::waitUntilContainerdAnswers(client, signals));
  ends.api->setServing(true);
  log.info("ready socket={}", ends.api->socketPath().string());
  contd::daemon::notifySystemd("READY=1\nSTATUS=serving on " + ends.api->socketPath().string());
  return contd::okStatus();
}

// Step 5c, the systemd notifier: its containerd probe also sets the health service's status.
std::unique_ptr<contd::daemon::SystemdNotifier> startNotifier(
    const contd::daemon::Config& config, contd::containerd::GrpcClient& client,
    contd::api::ApiServer& api, contd::container::ContainerService& service) {
  auto notifier = std::make_unique<contd::daemon::SystemdNotifier>(
      contd::daemon::SystemdNotifier::Options{
          .watchdog_period = contd::daemon::watchdogPeriod(),
          .status_interval = milliseconds(config.status_interval_ms)},
      [&client, &api]() -> contd::Status {
        auto namespaces = client.listNamespaces();
        api.setServing(namespaces.has_value());
        return namespaces ? contd::okStatus() : contd::Status(namespaces.error());
      },
      [&service] { return contd::daemon::statusSummary(service); });
  notifier->start();
  return notifier;
}

// Step 6, serving until a termination signal: SIGHUP reloads what can change while running.
// Returns the terminating signal's number.
int serveUntilSignal(contd::daemon::TerminationSignals& signals,
                     contd::daemon::SystemdNotifier& notifier, const contd::daemon::Flags& flags,
                     contd::daemon::Config& config, contd::container::ContainerService& service,
                     contd::container::Supervisor& supervisor,
                     contd::container::ShimKeeper* keeper, contd::daemon::DaemonInfo& info,
                     spdlog::logger& log) {
  for (;;) {
    const auto [event, number] = contd::daemon::waitForSignal(signals, notifier);
    if (event == contd::daemon::SignalEvent::kTerminate) {
      return number;
    }
    contd::daemon::notifySystemd("RELOADING=1");
    contd::daemon::reloadConfig(flags, config, [&](const contd::daemon::Config& fresh) {
      supervisor.setPolicy(restartPolicy(fresh));
      service.setDefaults(milliseconds(fresh.default_shutdown_timeout_ms),
                          fresh.default_pids_limit);
      if (keeper != nullptr) {
        keeper->setKeepalive(milliseconds(fresh.shim_keepalive_ms));
      }
      service.logRetention().setLimits(retentionLimits(fresh));
      if (auto runtime = runtimeChoice(fresh, log); runtime) {
        service.setRuntimeChoice(std::move(*runtime));
      } else {
        log.error("reload: keeping the runtime and shim group: {}", runtime.error().message);
      }
      log.info("reload restart_initial_delay_ms={} restart_max_failures={} "
               "default_shutdown_timeout_ms={} default_pids_limit={}",
               fresh.restart_initial_delay_ms, fresh.restart_max_failures,
               fresh.default_shutdown_timeout_ms, fresh.default_pids_limit);
    });
    info.setConfig(config);
    contd::daemon::notifySystemd("READY=1");
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked signals.
  contd::daemon::TerminationSignals signals;
  // Two malloc arenas instead of 8 per core: image pulls pass 1 MiB chunks through short-
  // lived threads, and memory freed in many arenas stays resident (docs/benchmarks.md,
  // pull: the heap grew to 48 MiB after 42 pulls with the default, stayed at 7 MiB with 2).
  mallopt(M_ARENA_MAX, 2);

  contd::daemon::Flags flags;
  contd::daemon::Config config;
  if (auto exit_code = parseConfig(argc, argv, flags, config)) {
    return *exit_code;
  }
  const auto log = startLoggers(config);
  // Before the containerd client: it counts every round trip from the first.
  contd::daemon::NodeMetrics metrics(metricsOptions(config));

  auto client = contd::daemon::connectContainerd(config.containerd_socket, signals);
  if (!client) {
    // kUnavailable only when a stop signal came while waiting for containerd: a clean stop.
    const bool stopped = client.error().code == contd::Code::kUnavailable;
    log->log(stopped ? spdlog::level::info : spdlog::level::err, "not started: {}",
             client.error().message);
    return stopped ? 0 : 1;
  }

  auto parts = serviceParts(config, **client, *log);
  if (!parts) {
    log->error("not started: {}", parts.error().message);
    return 1;
  }
  contd::container::ContainerService service(**client, std::move(parts->options));
  // Adopts running containers untouched and restarts those that exited while contd was away.
  // Ends the shims and log drivers interrupted Runs leave with no task (orphan_shims.h);
  // Run removes the bundles they leave with no shim (stale_bundle.h).
  contd::container::ProcShimHost shim_host(config.containerd_socket,
                                           service.tasks().logShim(), config.log_root);
  service.tasks().useShimHost(&shim_host);
  contd::container::Supervisor supervisor(**client, service.store(), service.tasks(),
                                         service.events(), restartPolicy(config), &shim_host);
  supervisor.start();
  if (parts->keeper) {
    parts->keeper->adopt();  // the keepers a previous contd left get a fresh keepalive
  }
  // The execs a previous contd left running when it died (stale_execs.h).
  if (const auto ended = contd::container::endStaleExecs(**client, config.log_root, ::getpid());
      ended > 0) {
    log->info("ended stale execs={}", ended);
  }
  // Health checks of the running containers, and of each container as it starts.
  service.health().start();
  // The logs a Delete left in place when contd stopped half-way, then the limits.
  service.retireOrphanLogs();
  service.logRetention().start();

  contd::daemon::DaemonInfo info(CONTD_VERSION, **client, *parts->image_store, service, config);
  auto ends = startFrontEnds(service, config, info);
  if (!ends) {
    log->error("not started: {}", ends.error().message);
    return 1;
  }
  if (auto ready = becomeReady(metrics, service, *ends, **client, signals, *log); !ready) {
    // kUnavailable only when a stop signal came while waiting for containerd: a clean stop.
    const bool stopped = ready.error().code == contd::Code::kUnavailable;
    log->log(stopped ? spdlog::level::info : spdlog::level::err, "not started: {}",
             ready.error().message);
    metrics.stop();  // its threads use the service, which goes first
    return stopped ? 0 : 1;
  }

  auto notifier = startNotifier(config, **client, *ends->api, service);
  const int sig = serveUntilSignal(signals, *notifier, flags, config, service, supervisor,
                                   parts->keeper.get(), info, *log);
  log->info("stopping signal={}; containers keep running", sig);
  contd::daemon::notifySystemd("STOPPING=1");
  notifier->stop();
  ends->bridge.reset();  // lets running zbus calls reply first
  ends->api->stop(kStopGrace);
  service.health().stop();  // before the supervisor: a check may be ending a container
  supervisor.stop();
  metrics.stop();  // the textfile's last write, with this run's final counts
  log->info("stopped");
  return 0;
}
