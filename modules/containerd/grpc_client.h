#pragma once
// GrpcClient: the Client interface over containerd's gRPC API on a unix socket.
//
// One long-lived channel per client (a Connection, grpc_connection.h); gRPC reconnects it by
// itself when containerd restarts (calls made while containerd is down fail at once with
// kUnavailable rather than waiting). The image store runs over the same connection
// (connection()), so there is one channel to containerd per process.
// The namespace of each call travels as the gRPC metadata `containerd-namespace`.
//
// Deadlines: every call has one. waitTask, waitProcess and createTask use the timeout they
// are given; every other call uses Options::call_timeout. The event stream (subscribe) has
// none; a Subscription keeps the channel alive and may outlive the client.
//
// Errors: containerd's gRPC status is mapped to contd::Code by grpcToCode() (NOT_FOUND ->
// kNotFound, ...), and the message keeps containerd's text behind what was being done:
// "create task 'web' in 'ns1': container \"web\" in namespace \"ns1\": not found".
//
// Logging: every call logs at debug on log::containerd() with op=, ns=, id=, ms= and code=.
//
// Thread-safety: all methods may be called concurrently from any thread; destroy the client
// only after every call has returned. The generated protobuf/gRPC types stay inside the
// gRPC implementation files: this header exposes none of them (Connection is only declared).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "modules/common/result.h"
#include "modules/containerd/client.h"

namespace contd::containerd {

// The one mapping from a gRPC status code (grpc::StatusCode, as int so that this header
// needs no gRPC include) to contd::Code. Mirrors containerd's errdefs/grpc.go.
Code grpcToCode(int grpc_status_code);

// Builds containerd's filter expression that matches every label in `labels`, e.g.
// labels."io.contd.managed"=="true". Keys and values are quoted, so any text is safe.
// Empty labels give an empty string (no filter).
std::string labelFilter(const Labels& labels);

// The channel and the stubs of every containerd service contd uses (grpc_connection.h).
class Connection;

class GrpcClient final : public Client {
public:
  struct Options {
    // Deadline of every call that takes no timeout of its own. Task Delete can take 12 s
    // when a binary logger lingers (see docs/containerd-facts.md), hence the margin.
    std::chrono::milliseconds call_timeout{30'000};
  };

  // Opens a channel to containerd's socket and checks that containerd answers (Version)
  // within `connect_timeout`, waiting for the socket to appear meanwhile (containerd may
  // still be starting). Errors: kUnavailable naming the socket when containerd did not
  // answer in time; kInvalidArgument for an empty path.
  static Result<std::unique_ptr<GrpcClient>> connect(std::string socket_path,
                                                     std::chrono::milliseconds connect_timeout);
  static Result<std::unique_ptr<GrpcClient>> connect(std::string socket_path,
                                                     std::chrono::milliseconds connect_timeout,
                                                     Options options);

  ~GrpcClient() override;
  GrpcClient(const GrpcClient&) = delete;
  GrpcClient& operator=(const GrpcClient&) = delete;

  const std::string& socketPath() const { return socket_path_; }
  // The client's channel, for the image store (GrpcImageStore::create) so that both use,
  // and revive, one channel. Shared: it may outlive the client.
  std::shared_ptr<Connection> connection() const { return connection_; }
  // containerd's version string, e.g. "1.6.20~ds1".
  Result<std::string> version();
  // containerd's version and revision ("1.6.20~ds1", "1.6.20~ds1-1+deb12u3"), asked with
  // its own deadline (a caller answering someone else bounds its wait).
  struct VersionInfo {
    std::string version;
    std::string revision;
  };
  Result<VersionInfo> versionInfo(std::chrono::milliseconds timeout);

  Status ensureNamespace(std::string_view ns) override;
  Result<std::vector<std::string>> listNamespaces() override;

  // createContainer sends record.runtime (io.containerd.runc.v2 by default), the labels and
  // the spec as google.protobuf.Any with type URL
  // types.containerd.io/opencontainers/runtime-spec/1/Spec. An existing id is
  // kAlreadyExists. listContainers filters on the labels inside containerd.
  Status createContainer(std::string_view ns, const ContainerRecord& record) override;
  Result<ContainerRecord> getContainer(std::string_view ns, std::string_view id) override;
  Result<std::vector<ContainerRecord>> listContainers(std::string_view ns,
                                                      const Labels& must_match) override;
  Status deleteContainer(std::string_view ns, std::string_view id) override;

  // createTask passes io.rootfs as the task's rootfs mounts (none: the spec's root.path is
  // a host directory). createContainer sends record.snapshotter/snapshot_key.
  Result<TaskState> createTask(std::string_view ns, std::string_view id, const TaskIo& io,
                               std::chrono::milliseconds timeout) override;
  Status startTask(std::string_view ns, std::string_view id) override;
  Result<TaskState> getTask(std::string_view ns, std::string_view id) override;
  Result<std::vector<TaskState>> listTasks(std::string_view ns) override;
  Status killTask(std::string_view ns, std::string_view id, int signal, bool all) override;
  Result<ExitStatus> waitTask(std::string_view ns, std::string_view id,
                              std::chrono::milliseconds timeout) override;
  Result<ExitStatus> deleteTask(std::string_view ns, std::string_view id) override;

  // Containers.Update with the mask `labels.<key>` per key (other labels stay).
  Status setLabels(std::string_view ns, std::string_view id, const Labels& labels) override;
  // Containers.Update with the mask `spec`, the spec typed as createContainer sends it.
  Status setSpec(std::string_view ns, std::string_view id, std::string_view spec_json) override;
  // Tasks.Update with `resources` an Any of type URL
  // types.containerd.io/opencontainers/runtime-spec/1/LinuxResources holding the JSON (the
  // runc shim reads the value as JSON and ignores the type URL).
  Status updateTask(std::string_view ns, std::string_view id,
                    std::string_view resources_json) override;

  // Events.Subscribe with one filter `topic=="<topic>"` per topic (containerd ORs them),
  // read by a thread the Subscription owns (grpc_events.cc). It first waits up to 1 s for
  // the channel to be connected (kUnavailable otherwise): after a containerd restart that
  // wait is also what makes the channel reconnect when every other call fails fast
  // (gRPC 1.51 can otherwise stay in TRANSIENT_FAILURE for seconds). To know that containerd has
  // registered the subscription before returning, subscribe() forwards a probe envelope
  // (namespace "contd", topic "/contd/subscribed/<random>", matched by an extra filter of
  // this subscription only) and waits for it to come back, within Options::call_timeout.
  // A subscriber without filters (`ctr events`) sees these probes. The stream has no
  // deadline. Destroying the Subscription cancels the call and joins the thread.
  Result<std::unique_ptr<Subscription>> subscribe(std::vector<std::string> topics,
                                                  EventCallback on_event,
                                                  BrokenCallback on_broken) override;

  // Tasks.Exec with the spec as an Any of type URL
  // types.containerd.io/opencontainers/runtime-spec/1/Process; stdin and terminal as the request says.
  // waitProcess uses the timeout it is given; the others Options::call_timeout.
  Status execProcess(std::string_view ns, std::string_view id,
                     const ExecRequest& request) override;
  Status startProcess(std::string_view ns, std::string_view id,
                      std::string_view exec_id) override;
  Result<ExitStatus> waitProcess(std::string_view ns, std::string_view id,
                                 std::string_view exec_id,
                                 std::chrono::milliseconds timeout) override;
  Status killProcess(std::string_view ns, std::string_view id, std::string_view exec_id,
                     int signal) override;
  Result<ExitStatus> deleteProcess(std::string_view ns, std::string_view id,
                                   std::string_view exec_id) override;
  Status closeProcessStdin(std::string_view ns, std::string_view id,
                           std::string_view exec_id) override;
  Status resizeProcessPty(std::string_view ns, std::string_view id, std::string_view exec_id,
                          std::uint32_t width, std::uint32_t height) override;

  // Tasks.Metrics with the filter id=="<id>"; decodes io.containerd.cgroups.v1.Metrics
  // (cgroup v2's io.containerd.cgroups.v2.Metrics is kFailedPrecondition: not supported).
  // An empty answer costs one more call (Tasks.Get) to tell kNotFound from kUnavailable.
  Result<TaskMetrics> metrics(std::string_view ns, std::string_view id) override;

private:
  GrpcClient(std::string socket_path, Options options, std::shared_ptr<Connection> connection);

  std::string socket_path_;
  Options options_;
  std::shared_ptr<Connection> connection_;
};

}  // namespace contd::containerd
