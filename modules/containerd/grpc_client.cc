#include "modules/containerd/grpc_client.h"

#include <google/protobuf/empty.pb.h>
#include <google/protobuf/field_mask.pb.h>
#include <sys/stat.h>

#include <utility>

#include "modules/containerd/grpc_call.h"

namespace contd::containerd {

using grpc_detail::Call;
using grpc_detail::invoke;
using grpc_detail::quoteFilter;
using grpc_detail::toUnixNanos;

namespace grpc_detail {

std::string describe(const Call& call) {
  std::string text(call.what);
  if (call.ns_is_subject) {
    return text.append(" '").append(call.ns).append("'");
  }
  if (!call.id.empty()) {
    text.append(" '").append(call.id).append("'");
  }
  if (!call.ns.empty()) {
    text.append(" in '").append(call.ns).append("'");
  }
  return text;
}

Status finish(const Call& call, const grpc::Status& status,
              std::chrono::system_clock::time_point deadline, std::chrono::milliseconds timeout,
              std::chrono::steady_clock::time_point start) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  Code code = Code::kUnknown;
  if (!status.ok()) {
    code = grpcToCode(status.error_code());
    // The deadline travels to containerd (grpc-timeout), and its own context may expire
    // first: it then answers UNKNOWN "context deadline exceeded" (seen on Tasks.Wait). A
    // failure that arrives once our deadline has passed is our deadline, whatever the code.
    if (std::chrono::system_clock::now() >= deadline) {
      code = Code::kDeadlineExceeded;
    }
  }
  log::containerd()->debug("op={} ns={} id={} ms={:.2f} code={}", call.op, call.ns, call.id, ms,
                           status.ok() ? std::string_view("ok") : codeName(code));
  if (status.ok()) {
    return okStatus();
  }
  if (code == Code::kDeadlineExceeded) {
    // gRPC's own text ("Deadline Exceeded") does not say which deadline.
    return makeError(
        code, describe(call) + ": deadline of " + std::to_string(timeout.count()) + " ms exceeded");
  }
  return makeError(code, describe(call) + ": " + status.error_message());
}

// A raw newline ends a filter literal, so control characters are escaped as \xNN.
std::string quoteFilter(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string quoted = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      quoted += "\\x";
      quoted += kHex[byte >> 4];
      quoted += kHex[byte & 0xf];
    } else {
      quoted += c;
    }
  }
  quoted += '"';
  return quoted;
}

}  // namespace grpc_detail

namespace {

// containerd does not check the type URL, but Go clients (`ctr c info`) break on any other.
constexpr char kSpecTypeUrl[] = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
// containerd's default max send size: a large container list must still fit.
constexpr int kMaxMessageBytes = 16 << 20;

TaskStatus toTaskStatus(types_v1::Status status) {
  switch (status) {
    case types_v1::CREATED: return TaskStatus::kCreated;
    case types_v1::RUNNING: return TaskStatus::kRunning;
    case types_v1::STOPPED: return TaskStatus::kStopped;
    case types_v1::PAUSED: return TaskStatus::kPaused;
    case types_v1::PAUSING: return TaskStatus::kPausing;
    default: return TaskStatus::kUnknown;
  }
}

TaskState toTaskState(const types_v1::Process& process) {
  TaskState state;
  state.id = process.container_id().empty() ? process.id() : process.container_id();
  state.pid = process.pid();
  state.status = toTaskStatus(process.status());
  state.exit_status = process.exit_status();
  state.exited_at = toUnixNanos(process.exited_at());
  return state;
}

ContainerRecord toRecord(const containers_v1::Container& container) {
  ContainerRecord record;
  record.id = container.id();
  record.labels.insert(container.labels().begin(), container.labels().end());
  record.runtime = container.runtime().name();
  record.spec_json = container.spec().value();
  record.created_at = toUnixNanos(container.created_at());
  record.snapshotter = container.snapshotter();
  record.snapshot_key = container.snapshot_key();
  return record;
}

bool socketExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

Code grpcToCode(int grpc_status_code) {
  switch (static_cast<grpc::StatusCode>(grpc_status_code)) {
    case grpc::StatusCode::NOT_FOUND: return Code::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS: return Code::kAlreadyExists;
    case grpc::StatusCode::INVALID_ARGUMENT: return Code::kInvalidArgument;
    case grpc::StatusCode::FAILED_PRECONDITION: return Code::kFailedPrecondition;
    case grpc::StatusCode::UNAVAILABLE: return Code::kUnavailable;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return Code::kDeadlineExceeded;
    case grpc::StatusCode::UNAUTHENTICATED: return Code::kUnauthenticated;
    // containerd's errdefs.ErrUnknown ("cannot delete a running process"), and
    // cancellations, carry no more precise meaning.
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED: return Code::kUnknown;
    default: return Code::kInternal;
  }
}

std::string labelFilter(const Labels& labels) {
  std::string filter;
  for (const auto& [key, value] : labels) {
    if (!filter.empty()) {
      filter += ',';  // a comma means AND inside one filter
    }
    filter += "labels." + quoteFilter(key) + "==" + quoteFilter(value);
  }
  return filter;
}

GrpcClient::GrpcClient(std::string socket_path, Options options, std::unique_ptr<Stubs> stubs)
    : socket_path_(std::move(socket_path)), options_(options), stubs_(std::move(stubs)) {}

GrpcClient::~GrpcClient() = default;

Result<std::unique_ptr<GrpcClient>> GrpcClient::connect(std::string socket_path,
                                                        std::chrono::milliseconds connect_timeout) {
  return connect(std::move(socket_path), connect_timeout, Options{});
}

Result<std::unique_ptr<GrpcClient>> GrpcClient::connect(std::string socket_path,
                                                        std::chrono::milliseconds connect_timeout,
                                                        Options options) {
  if (socket_path.empty()) {
    return invalidArgument("connect to containerd: empty socket path");
  }
  // gRPC 1.51 can leave a channel whose connection broke (containerd restarted) failing for
  // up to its 5 s backup-poll interval after containerd is back. The interval is read once,
  // from the environment, when gRPC initialises: that is at the first channel of the process,
  // which in contd is this one. An operator's own setting wins.
  ::setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", /*overwrite=*/0);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  // After a containerd restart the channel reconnects by itself; gRPC's default backoff
  // (1 s growing to 120 s) would leave us blind for long after containerd is back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  // One client, one connection: do not share subchannels with other clients of the process.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);

  std::unique_ptr<GrpcClient> client(
      new GrpcClient(socket_path, options, std::make_unique<Stubs>(std::move(channel))));

  version_v1::VersionResponse response;
  const Call call{"version.Version", "ask containerd for its version", "", ""};
  const auto start = std::chrono::steady_clock::now();
  const Status status = invoke(
      call, connect_timeout,
      [&](grpc::ClientContext* ctx) {
        return client->stubs_->version->Version(ctx, google::protobuf::Empty(), &response);
      },
      /*wait_for_ready=*/true);
  if (!status) {
    // With wait_for_ready, "no containerd" shows up as the deadline passing.
    std::string message = "connect to containerd at '" + socket_path + "': ";
    message += status.error().code == Code::kDeadlineExceeded
                   ? "no answer within " + std::to_string(connect_timeout.count()) + " ms"
                   : status.error().message;
    if (!socketExists(socket_path)) {
      message += " (no socket at that path)";
    }
    return unavailable(std::move(message));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  log::containerd()->info("connected to containerd socket={} version={} ms={}", socket_path,
                          response.version(), ms);
  return client;
}

Result<std::string> GrpcClient::version() {
  version_v1::VersionResponse response;
  CONTD_RETURN_IF_ERROR(invoke(Call{"version.Version", "ask containerd for its version", "", ""},
                               options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return stubs_->version->Version(ctx, google::protobuf::Empty(),
                                                                 &response);
                               }));
  return response.version();
}

Status GrpcClient::ensureNamespace(std::string_view ns) {
  namespaces_v1::CreateNamespaceRequest request;
  request.mutable_namespace_()->set_name(std::string(ns));
  namespaces_v1::CreateNamespaceResponse response;
  const Call call{"namespaces.Create", "create namespace", ns, "", /*ns_is_subject=*/true};
  Status status = invoke(call, options_.call_timeout, [&](grpc::ClientContext* ctx) {
    return stubs_->namespaces->Create(ctx, request, &response);
  });
  // Create-then-ignore-exists is one round trip where Get-then-Create is two and racy.
  if (!status && status.error().code == Code::kAlreadyExists) {
    return okStatus();
  }
  return status;
}

Result<std::vector<std::string>> GrpcClient::listNamespaces() {
  namespaces_v1::ListNamespacesRequest request;
  namespaces_v1::ListNamespacesResponse response;
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"namespaces.List", "list namespaces", "", ""}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->namespaces->List(ctx, request, &response); }));
  std::vector<std::string> names;
  names.reserve(response.namespaces_size());
  for (const auto& ns : response.namespaces()) {
    names.push_back(ns.name());
  }
  return names;
}

Status GrpcClient::createContainer(std::string_view ns, const ContainerRecord& record) {
  containers_v1::CreateContainerRequest request;
  containers_v1::Container* container = request.mutable_container();
  container->set_id(record.id);
  container->mutable_labels()->insert(record.labels.begin(), record.labels.end());
  container->mutable_runtime()->set_name(record.runtime);
  container->mutable_spec()->set_type_url(kSpecTypeUrl);
  container->mutable_spec()->set_value(record.spec_json);
  container->set_snapshotter(record.snapshotter);
  container->set_snapshot_key(record.snapshot_key);
  containers_v1::CreateContainerResponse response;
  return invoke(Call{"containers.Create", "create container", ns, record.id}, options_.call_timeout,
                [&](grpc::ClientContext* ctx) {
                  return stubs_->containers->Create(ctx, request, &response);
                });
}

Result<ContainerRecord> GrpcClient::getContainer(std::string_view ns, std::string_view id) {
  containers_v1::GetContainerRequest request;
  request.set_id(std::string(id));
  containers_v1::GetContainerResponse response;
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"containers.Get", "get container", ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->containers->Get(ctx, request, &response); }));
  return toRecord(response.container());
}

Result<std::vector<ContainerRecord>> GrpcClient::listContainers(std::string_view ns,
                                                                const Labels& must_match) {
  containers_v1::ListContainersRequest request;
  if (!must_match.empty()) {
    request.add_filters(labelFilter(must_match));
  }
  std::vector<ContainerRecord> records;
  // ListStream, not List: each record carries a whole OCI spec, and List's single response
  // would hit the 16 MiB message limit with a few thousand containers.
  CONTD_RETURN_IF_ERROR(invoke(Call{"containers.ListStream", "list containers", ns, ""},
                               options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 auto reader = stubs_->containers->ListStream(ctx, request);
                                 containers_v1::ListContainerMessage message;
                                 while (reader->Read(&message)) {
                                   records.push_back(toRecord(message.container()));
                                 }
                                 return reader->Finish();
                               }));
  return records;
}

Status GrpcClient::deleteContainer(std::string_view ns, std::string_view id) {
  containers_v1::DeleteContainerRequest request;
  request.set_id(std::string(id));
  google::protobuf::Empty response;
  return invoke(Call{"containers.Delete", "delete container", ns, id}, options_.call_timeout,
                [&](grpc::ClientContext* ctx) {
                  return stubs_->containers->Delete(ctx, request, &response);
                });
}

Result<TaskState> GrpcClient::createTask(std::string_view ns, std::string_view id, const TaskIo& io,
                                         std::chrono::milliseconds timeout) {
  tasks_v1::CreateTaskRequest request;
  request.set_container_id(std::string(id));
  request.set_stdin(io.stdin_path);
  request.set_stdout(io.stdout_uri);
  request.set_stderr(io.stderr_uri);
  for (const auto& mount : io.rootfs) {
    auto* m = request.add_rootfs();
    m->set_type(mount.type);
    m->set_source(mount.source);
    for (const auto& option : mount.options) {
      m->add_options(option);
    }
  }
  tasks_v1::CreateTaskResponse response;
  // The caller's timeout, not call_timeout: Create blocks for as long as a binary:// logger
  // takes to signal ready, with no deadline of containerd's own.
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.Create", "create task", ns, id}, timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->tasks->Create(ctx, request, &response); }));
  TaskState state;
  state.id = std::string(id);
  state.pid = response.pid();
  state.status = TaskStatus::kCreated;
  return state;
}

Status GrpcClient::startTask(std::string_view ns, std::string_view id) {
  tasks_v1::StartRequest request;
  request.set_container_id(std::string(id));
  tasks_v1::StartResponse response;
  return invoke(
      Call{"tasks.Start", "start task", ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->tasks->Start(ctx, request, &response); });
}

Result<TaskState> GrpcClient::getTask(std::string_view ns, std::string_view id) {
  tasks_v1::GetRequest request;
  request.set_container_id(std::string(id));
  tasks_v1::GetResponse response;
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.Get", "get task", ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->tasks->Get(ctx, request, &response); }));
  return toTaskState(response.process());
}

Result<std::vector<TaskState>> GrpcClient::listTasks(std::string_view ns) {
  tasks_v1::ListTasksRequest request;
  tasks_v1::ListTasksResponse response;
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.List", "list tasks", ns, ""}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->tasks->List(ctx, request, &response); }));
  std::vector<TaskState> tasks;
  tasks.reserve(response.tasks_size());
  for (const auto& process : response.tasks()) {
    tasks.push_back(toTaskState(process));
  }
  return tasks;
}

Status GrpcClient::killTask(std::string_view ns, std::string_view id, int signal, bool all) {
  if (signal <= 0) {
    return invalidArgument("kill task '" + std::string(id) + "' in '" + std::string(ns) +
                           "': invalid signal " + std::to_string(signal));
  }
  tasks_v1::KillRequest request;
  request.set_container_id(std::string(id));
  request.set_signal(static_cast<std::uint32_t>(signal));
  request.set_all(all);
  google::protobuf::Empty response;
  return invoke(
      Call{"tasks.Kill", "kill task", ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->tasks->Kill(ctx, request, &response); });
}

Result<ExitStatus> GrpcClient::waitTask(std::string_view ns, std::string_view id,
                                        std::chrono::milliseconds timeout) {
  tasks_v1::WaitRequest request;
  request.set_container_id(std::string(id));
  tasks_v1::WaitResponse response;
  // The deadline ends only our wait; containerd and the task are not affected.
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.Wait", "wait for task", ns, id}, timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->tasks->Wait(ctx, request, &response); }));
  return ExitStatus{response.exit_status(), toUnixNanos(response.exited_at())};
}

Result<ExitStatus> GrpcClient::deleteTask(std::string_view ns, std::string_view id) {
  tasks_v1::DeleteTaskRequest request;
  request.set_container_id(std::string(id));
  tasks_v1::DeleteResponse response;
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.Delete", "delete task", ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return stubs_->tasks->Delete(ctx, request, &response); }));
  return ExitStatus{response.exit_status(), toUnixNanos(response.exited_at())};
}

Status GrpcClient::setLabels(std::string_view ns, std::string_view id, const Labels& labels) {
  if (labels.empty()) {
    // An empty mask would mean "replace every field" to containerd.
    return okStatus();
  }
  containers_v1::UpdateContainerRequest request;
  containers_v1::Container* container = request.mutable_container();
  container->set_id(std::string(id));
  for (const auto& [key, value] : labels) {
    // A key in the mask but not in the map is removed: containerd stores "" and its label
    // writer drops empty values (metadata/containers.go, boltutil.WriteLabels).
    request.mutable_update_mask()->add_paths("labels." + key);
    if (!value.empty()) {
      (*container->mutable_labels())[key] = value;
    }
  }
  containers_v1::UpdateContainerResponse response;
  return invoke(Call{"containers.Update", "set labels of container", ns, id},
                options_.call_timeout, [&](grpc::ClientContext* ctx) {
                  return stubs_->containers->Update(ctx, request, &response);
                });
}

}  // namespace contd::containerd
