// bench_oneshot: the run-to-completion round trip (issue 11) through contd against
// containerd's ctr, on one private containerd the benchmark starts itself.
//
// One round trip of contd: Run of `/bin/true` with auto_remove, Wait for its exit, then
// the DELETED event of its removal (what `ctr run --rm` includes: it returns once task
// and container are deleted), through one persistent gRPC channel. One of ctr:
// `ctr run --rm --rootfs --seccomp --with-ns network:NETNS ROOTFS ID /bin/true` (a syscall
// filter for both, as contd's default profile confines its containers). Each is done
// `--count` times in a row, then `--count` times with `--in-flight` at once; printed as
// round trips per second, side by side. A benchmark: it asserts nothing and fails only
// when it cannot measure. Needs root, containerd, runc, ctr, ip and busybox-static.
//
// Exit status: 0 measured, 1 could not measure, 2 usage error.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/logging.h"
#include "tests/bench/bench_sweep.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/stats.h"
#include "tests/integration/support/busybox_rootfs.h"
#include "tests/integration/support/contd_daemon.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/private_containerd.h"
#include "tests/integration/support/request_server.h"
#include "tests/integration/support/run_command.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/integration/support/unique_name.h"

namespace contd::bench::oneshot {
namespace {

namespace support = ::contd::testing;
using namespace std::chrono_literals;

struct Options {
  int count = 40;
  int in_flight = 4;
  std::string contd;
  std::string ctr = "ctr";
  std::string runtime = "runc";     // contd's --runtime (ctr runs runc)
  std::string shim_group = "none";  // contd's --shim-group
  std::string log_level = "warn";   // contd's --log-level (debug: its step timings)
  std::string save_logs;            // copy contd's log here at the end; "": no
};

// What one way of running did: the round trips' milliseconds and the wall time of all.
struct Measured {
  std::vector<double> ms;
  double wall_ms = 0;
  std::string error;  // the first failure, if any
};

class Bench {
public:
  explicit Bench(Options options) : options_(std::move(options)) {}
  ~Bench() {
    if (Status s = cleanUp(); !s) {
      std::fprintf(stderr, "bench_oneshot: cleanup: %s\n", s.error().message.c_str());
    }
  }

  Status setUp();
  // contd stopped, both namespaces purged, then swept with containerd stopped
  // (bench_sweep.h), the network namespace and the work dir removed.
  Status cleanUp();
  // `count` round trips of `one`, `in_flight` at once.
  Measured measure(int in_flight, const std::function<Status(const std::string&)>& one);
  // Run of `program` in the busybox rootfs with auto_remove, as contd's round trips send it.
  v1::RunRequest autoRemoveRun(const std::string& id, const std::string& program) const;
  Status contdRoundTrip(const std::string& id);
  Status ctrRoundTrip(const std::string& id);
  // The per-request server (request_server.h): `count` HTTP GETs from `in_flight` clients,
  // each served by a handler container run by ctr or contd; the clients' latencies.
  Measured measureRequests(int in_flight, bool with_ctr);
  support::HandlerSteps contdHandler(const std::string& id);
  support::HandlerSteps ctrHandler(const std::string& id);

private:
  Options options_;
  std::optional<support::TempDir> work_;
  std::optional<support::BusyboxRootfs> rootfs_;
  std::unique_ptr<support::NetworkNamespace> netns_;
  std::unique_ptr<support::PrivateContainerd> containerd_;
  std::unique_ptr<support::ContdDaemon> contd_;
  std::unique_ptr<v1::Containers::Stub> stub_;
  std::string contd_ns_ = support::uniqueName("oneshotd");
  std::string ctr_ns_ = support::uniqueName("oneshotc");
  std::atomic<int> next_{0};
};

Status Bench::setUp() {
  auto work = support::TempDir::make("contd-oneshot");
  if (!work) {
    return work.error();
  }
  work_.emplace(std::move(*work));
  auto rootfs = support::BusyboxRootfs::build();
  if (!rootfs) {
    return rootfs.error();
  }
  rootfs_.emplace(std::move(*rootfs));
  auto netns = support::NetworkNamespace::create("contd-bo");
  if (!netns) {
    return netns.error();
  }
  netns_ = std::move(*netns);
  auto containerd = support::PrivateContainerd::start();
  if (!containerd) {
    return containerd.error();
  }
  containerd_ = std::move(*containerd);
  auto daemon = support::ContdDaemon::start({.binary = options_.contd,
                                             .containerd_socket = containerd_->socketPath(),
                                             .dir = work_->path() / "contd",
                                             .extra_args = {"--log-level", options_.log_level, "--runtime",
                                                            options_.runtime, "--shim-group",
                                                            options_.shim_group}});
  if (!daemon) {
    return daemon.error();
  }
  contd_ = std::move(*daemon);
  stub_ = v1::Containers::NewStub(grpc::CreateChannel("unix:" + contd_->socketPath(),
                                                      grpc::InsecureChannelCredentials()));
  return okStatus();
}

Status Bench::cleanUp() {
  Status first = okStatus();
  stub_.reset();
  if (contd_) {
    if (auto stopped = contd_->stop(); !stopped) {
      keepFirst(first, stopped.error());
    }
    contd_.reset();
  }
  if (containerd_) {
    purgeNamespaces(containerd_->socketPath(), {contd_ns_, ctr_ns_}, "bench_oneshot");
    keepFirst(first, containerd_->stop());
    keepFirst(first,
              sweepNamespaces(containerd_->socketPath(), {contd_ns_, ctr_ns_}, "bench_oneshot"));
    containerd_.reset();
  }
  if (netns_) {
    keepFirst(first, netns_->remove());
    netns_.reset();
  }
  rootfs_.reset();
  if (work_ && !options_.save_logs.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.save_logs, ec);
    saveLog(work_->path() / "contd" / "contd.log", options_.save_logs, "contd.log",
            "bench_oneshot");
  }
  if (work_) {
    keepFirst(first, work_->remove());
    work_.reset();
  }
  return first;
}

v1::RunRequest Bench::autoRemoveRun(const std::string& id, const std::string& program) const {
  v1::RunRequest run;
  run.set_namespace_(contd_ns_);
  auto* spec = run.mutable_spec();
  spec->set_name(id);
  spec->set_rootfs(rootfs_->path().string());
  spec->set_network_namespace(netns_->name());
  spec->set_auto_remove(true);
  spec->add_argv(program);
  return run;
}

Status Bench::contdRoundTrip(const std::string& id) {
  auto call = [&](auto method, const auto& request, auto& response) -> Status {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 60s);
    const grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    return status.ok() ? okStatus() : Status(internalError(status.error_message()));
  };
  // The removal is seen as a client would see it: the DELETED event, on a stream opened
  // (and taken by contd) before the Run. Polling Exists instead would add its own load on
  // containerd to the removal it measures.
  grpc::ClientContext events_context;
  events_context.set_deadline(std::chrono::system_clock::now() + 60s);
  v1::EventsRequest events_request;
  events_request.set_namespace_(contd_ns_);
  auto events = stub_->Events(&events_context, events_request);
  events->WaitForInitialMetadata();
  const v1::RunRequest run = autoRemoveRun(id, "/bin/true");
  v1::RunResponse ran;
  CONTD_RETURN_IF_ERROR(call(&v1::Containers::Stub::Run, run, ran));
  v1::WaitRequest wait;
  wait.set_namespace_(contd_ns_);
  wait.set_id(id);
  v1::WaitResponse waited;
  CONTD_RETURN_IF_ERROR(call(&v1::Containers::Stub::Wait, wait, waited));
  v1::Event event;
  while (events->Read(&event)) {
    if (event.id() == id && event.kind() == v1::Event::DELETED) {
      events_context.TryCancel();
      (void)events->Finish();
      return okStatus();
    }
  }
  const grpc::Status status = events->Finish();
  return internalError(id + " was not seen removed: " + status.error_message());
}

Status Bench::ctrRoundTrip(const std::string& id) {
  const std::vector<std::string> argv = {
      options_.ctr, "-a", containerd_->socketPath(), "-n", ctr_ns_, "run", "--rm", "--rootfs",
      "--seccomp", "--with-ns", "network:" + netns_->path(), "--cgroup",
      "/" + ctr_ns_ + "/" + id, rootfs_->path().string(), id, "/bin/true"};
  return commandSucceeded(argv, support::runCommand(argv, 60s));
}

support::HandlerSteps Bench::contdHandler(const std::string& id) {
  support::HandlerSteps steps;
  steps.start = [this, id](const std::filesystem::path& control_socket) -> Status {
    v1::RunRequest run = autoRemoveRun(id, "/handler");
    auto* spec = run.mutable_spec();
    for (const auto& [source, target] : {std::pair{control_socket.string(), "/control.sock"},
                                         std::pair{std::string(REQUEST_HANDLER_BIN), "/handler"}}) {
      auto* mount = spec->add_mounts();
      mount->set_source(source);
      mount->set_target(target);
    }
    v1::RunResponse ran;
    grpc::ClientContext context;
    const grpc::Status status = stub_->Run(&context, run, &ran);
    return status.ok() ? okStatus() : Status(internalError("Run: " + status.error_message()));
  };
  steps.wait = [this, id]() -> Result<int> {
    v1::WaitRequest wait;
    wait.set_namespace_(contd_ns_);
    wait.set_id(id);
    v1::WaitResponse waited;
    grpc::ClientContext context;
    const grpc::Status status = stub_->Wait(&context, wait, &waited);
    if (!status.ok()) {
      return internalError("Wait: " + status.error_message());
    }
    return waited.exit_code();
  };
  return steps;
}

support::HandlerSteps Bench::ctrHandler(const std::string& id) {
  auto done = std::make_shared<std::future<Result<support::CommandResult>>>();
  support::HandlerSteps steps;
  steps.start = [this, id, done](const std::filesystem::path& control_socket) -> Status {
    const std::vector<std::string> argv = {
        options_.ctr, "-a", containerd_->socketPath(), "-n", ctr_ns_, "run", "--rm",
        "--rootfs", "--seccomp", "--with-ns", "network:" + netns_->path(), "--cgroup",
        "/" + ctr_ns_ + "/" + id, "--mount",
        "type=bind,src=" + control_socket.string() + ",dst=/control.sock,options=rbind:rw",
        "--mount", std::string("type=bind,src=") + REQUEST_HANDLER_BIN +
                       ",dst=/handler,options=rbind:ro",
        rootfs_->path().string(), id, "/handler"};
    // ctr run stays in the foreground until the handler is gone: in the background here.
    *done = std::async(std::launch::async, [argv] { return support::runCommand(argv, 60s); });
    return okStatus();
  };
  steps.wait = [done]() -> Result<int> {
    auto ran = done->get();
    if (!ran) {
      return ran.error();
    }
    return ran->exit_code;
  };
  return steps;
}

Measured Bench::measureRequests(int in_flight, bool with_ctr) {
  Measured out;
  std::uint16_t port = 0;
  const UniqueFd listener = support::tcpListener(port, 64);
  std::mutex mu;
  auto fail = [&](const std::string& error) {
    std::lock_guard lock(mu);
    if (out.error.empty()) {
      out.error = error;
    }
  };
  std::atomic<int> served{0};
  std::atomic<int> asked{0};
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < in_flight; ++w) {
    threads.emplace_back([&] {  // a server worker
      while (served.fetch_add(1) < options_.count && !interrupted()) {
        UniqueFd conn = support::acceptWithin(listener.get(), 60s);
        const std::string id = "p" + std::to_string(next_.fetch_add(1));
        auto code = support::serveWithContainer(std::move(conn), work_->path() / id,
                                                with_ctr ? ctrHandler(id) : contdHandler(id));
        if (!code || *code != 0) {
          fail(id + ": " + (code ? "exit code " + std::to_string(*code) : code.error().message));
        }
      }
    });
    threads.emplace_back([&] {  // a client
      while (asked.fetch_add(1) < options_.count && !interrupted()) {
        const auto t0 = Clock::now();
        const std::string answer = support::httpGet(port, "/bench");
        const double ms = msSince(t0);
        if (answer.find("200 OK") == std::string::npos) {
          fail("a request was not answered");
        }
        std::lock_guard lock(mu);
        out.ms.push_back(ms);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  out.wall_ms = msSince(started);
  return out;
}

Measured Bench::measure(int in_flight, const std::function<Status(const std::string&)>& one) {
  Measured out;
  std::mutex mu;
  std::atomic<int> left{options_.count};
  const auto started = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < in_flight; ++w) {
    workers.emplace_back([&] {
      while (left.fetch_sub(1) > 0 && !interrupted()) {
        const std::string id = "o" + std::to_string(next_.fetch_add(1));
        const auto t0 = Clock::now();
        const Status done = one(id);
        const double ms = msSince(t0);
        std::lock_guard lock(mu);
        if (!done && out.error.empty()) {
          out.error = id + ": " + done.error().message;
        }
        out.ms.push_back(ms);
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  out.wall_ms = msSince(started);
  return out;
}

void printRow(const char* what, int in_flight, const Measured& m, double ctr_rate) {
  const Summary s = summarize(m.ms);
  const double rate = m.wall_ms > 0 ? 1000.0 * static_cast<double>(m.ms.size()) / m.wall_ms : 0;
  std::printf("  %-6s %9d %10.1f %10s %10s %10s", what, in_flight, rate,
              formatMs(s.median).c_str(), formatMs(s.p90).c_str(), formatMs(s.p99).c_str());
  if (ctr_rate > 0) {
    std::printf("   %.2fx ctr's rate", rate / ctr_rate);
  }
  std::printf("\n");
}

// ctr's row, then contd's with its rate against ctr's; 1 when either failed somewhere.
int printPair(int in_flight, const Measured& ctr, const Measured& contd) {
  const double ctr_rate = 1000.0 * static_cast<double>(ctr.ms.size()) / ctr.wall_ms;
  printRow("ctr", in_flight, ctr, 0);
  printRow("contd", in_flight, contd, ctr_rate);
  int status = 0;
  for (const Measured* m : {&ctr, &contd}) {
    if (!m->error.empty()) {
      std::fprintf(stderr, "bench_oneshot: %s\n", m->error.c_str());
      status = 1;
    }
  }
  return status;
}

int run(Options options) {
  Bench bench(options);
  if (Status set = bench.setUp(); !set) {
    std::fprintf(stderr, "bench_oneshot: %s\n", set.error().message.c_str());
    return 1;
  }
  std::printf("run to completion of /bin/true (Run auto_remove + Wait + gone | ctr run --rm), "
              "%d each, load %s\ncontd: runtime %s, shim group %s; ctr: runc\n", options.count,
              loadAverage().c_str(), options.runtime.c_str(), options.shim_group.c_str());
  std::printf("  %-6s %9s %10s %10s %10s %10s\n", "", "in flight", "runs/s", "p50", "p90", "p99");
  int status = 0;
  for (int in_flight : {1, options.in_flight}) {
    (void)bench.measure(1, [&](const std::string& id) { return bench.ctrRoundTrip(id); });
    const Measured ctr =
        bench.measure(in_flight, [&](const std::string& id) { return bench.ctrRoundTrip(id); });
    const Measured contd =
        bench.measure(in_flight, [&](const std::string& id) { return bench.contdRoundTrip(id); });
    status |= printPair(in_flight, ctr, contd);
  }
  std::printf("\nper-request server: an HTTP GET on loopback answered by a handler container "
              "of its own (SCM_RIGHTS), %d each\n", options.count);
  std::printf("  %-6s %9s %10s %10s %10s %10s\n", "", "in flight", "req/s", "p50", "p90", "p99");
  for (int in_flight : {1, options.in_flight}) {
    const Measured ctr = bench.measureRequests(in_flight, true);
    const Measured contd = bench.measureRequests(in_flight, false);
    status |= printPair(in_flight, ctr, contd);
  }
  return status;
}

}  // namespace
}  // namespace contd::bench::oneshot

int main(int argc, char** argv) {
  using namespace contd::bench;
  contd::log::init("warn");
  installSignalHandlers();
  oneshot::Options options;
  options.contd = orNextToSelf("", "contd");
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--count" && has_value) {
      options.count = std::atoi(argv[++i]);
    } else if (arg == "--in-flight" && has_value) {
      options.in_flight = std::atoi(argv[++i]);
    } else if (arg == "--ctr" && has_value) {
      options.ctr = argv[++i];
    } else if (arg == "--runtime" && has_value) {
      options.runtime = argv[++i];
    } else if (arg == "--shim-group" && has_value) {
      options.shim_group = argv[++i];
    } else if (arg == "--log-level" && has_value) {
      options.log_level = argv[++i];
    } else if (arg == "--save-logs" && has_value) {
      options.save_logs = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_oneshot [--count N] [--in-flight K] [--ctr PATH] "
                           "[--runtime runc|crun|PATH] [--shim-group none|namespace] "
                           "[--log-level LEVEL] [--save-logs DIR]\n");
      return 2;
    }
  }
  if (options.count < 1 || options.in_flight < 1) {
    std::fprintf(stderr, "bench_oneshot: --count and --in-flight must be at least 1\n");
    return 2;
  }
  return oneshot::run(options);
}
