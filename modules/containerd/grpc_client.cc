#include "modules/containerd/grpc_client.h"

#include <google/protobuf/empty.pb.h>
#include <google/protobuf/field_mask.pb.h>
#include <sys/stat.h>

#include <utility>

#include "modules/common/logging.h"
#include "modules/containerd/grpc_connection.h"
#include "modules/containerd/grpc_convert.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"

namespace contd::containerd {

using rpc::Call;
using rpc::invoke;
using grpc_detail::quoteFilter;
using grpc_detail::toUnixNanos;

namespace grpc_detail {

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
// What containerd's Go client sends for tasks.Update (runtime/typeurl.go); the runc shim
// reads the value as JSON whatever the URL says.
constexpr char kResourcesTypeUrl[] =
    "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

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

// The runc shim's options as containerd's Go client sends them: this exact type URL (the
// shim looks the type up by its registered name).
constexpr char kRuncOptionsTypeUrl[] = "containerd.runc.v1.Options";

ContainerRecord toRecord(const containers_v1::Container& container) {
  ContainerRecord record;
  record.id = container.id();
  record.labels.insert(container.labels().begin(), container.labels().end());
  record.runtime = container.runtime().name();
  if (const auto& options = container.runtime().options();
      options.type_url() == kRuncOptionsTypeUrl) {
    ::containerd::runc::v1::Options runc;
    if (runc.ParseFromString(options.value())) {
      record.runtime_binary = runc.binary_name();
    }
  }
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

GrpcClient::GrpcClient(std::string socket_path, Options options,
                       std::shared_ptr<Connection> connection)
    : socket_path_(std::move(socket_path)), options_(options), connection_(std::move(connection)) {}

GrpcClient::~GrpcClient() = default;

Result<std::unique_ptr<GrpcClient>> GrpcClient::connect(std::string socket_path,
                                                        std::chrono::milliseconds connect_timeout) {
  return connect(std::move(socket_path), connect_timeout, Options{});
}

Result<std::unique_ptr<GrpcClient>> GrpcClient::connect(std::string socket_path,
                                                        std::chrono::milliseconds connect_timeout,
                                                        Options options) {
  auto connection = Connection::open(socket_path);
  if (!connection) {
    return connection.error();
  }
  std::unique_ptr<GrpcClient> client(new GrpcClient(socket_path, options, std::move(*connection)));

  version_v1::VersionResponse response;
  const Call call{"version.Version", "ask containerd for its version", "", ""};
  const auto start = std::chrono::steady_clock::now();
  const Status status = invoke(
      call, connect_timeout,
      [&](grpc::ClientContext* ctx) {
        return client->connection_->version->Version(ctx, google::protobuf::Empty(), &response);
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
  auto info = versionInfo(options_.call_timeout);
  if (!info) {
    return info.error();
  }
  return std::move(info->version);
}

Result<GrpcClient::VersionInfo> GrpcClient::versionInfo(std::chrono::milliseconds timeout) {
  version_v1::VersionResponse response;
  CONTD_RETURN_IF_ERROR(invoke(Call{"version.Version", "ask containerd for its version", "", ""},
                               timeout, [&](grpc::ClientContext* ctx) {
                                 return connection_->version->Version(
                                     ctx, google::protobuf::Empty(), &response);
                               }));
  return VersionInfo{response.version(), response.revision()};
}

Status GrpcClient::ensureNamespace(std::string_view ns) {
  namespaces_v1::CreateNamespaceRequest request;
  request.mutable_namespace_()->set_name(std::string(ns));
  namespaces_v1::CreateNamespaceResponse response;
  const Call call{
      .op = "namespaces.Create", .what = "create namespace", .ns = ns, .ns_is_subject = true};
  Status status = invoke(call, options_.call_timeout, [&](grpc::ClientContext* ctx) {
    return connection_->namespaces->Create(ctx, request, &response);
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
  CONTD_RETURN_IF_ERROR(invoke(Call{"namespaces.List", "list namespaces", "", ""},
                               options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return connection_->namespaces->List(ctx, request, &response);
                               }));
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
  if (!record.runtime_binary.empty()) {
    ::containerd::runc::v1::Options runc;
    runc.set_binary_name(record.runtime_binary);
    container->mutable_runtime()->mutable_options()->set_type_url(kRuncOptionsTypeUrl);
    runc.SerializeToString(container->mutable_runtime()->mutable_options()->mutable_value());
  }
  container->mutable_spec()->set_type_url(kSpecTypeUrl);
  container->mutable_spec()->set_value(record.spec_json);
  container->set_snapshotter(record.snapshotter);
  container->set_snapshot_key(record.snapshot_key);
  containers_v1::CreateContainerResponse response;
  return invoke(Call{"containers.Create", "create container", ns, record.id}, options_.call_timeout,
                [&](grpc::ClientContext* ctx) {
                  return connection_->containers->Create(ctx, request, &response);
                });
}

Result<ContainerRecord> GrpcClient::getContainer(std::string_view ns, std::string_view id) {
  containers_v1::GetContainerRequest request;
  request.set_id(std::string(id));
  containers_v1::GetContainerResponse response;
  CONTD_RETURN_IF_ERROR(invoke(Call{"containers.Get", "get container", ns, id},
                               options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return connection_->containers->Get(ctx, request, &response);
                               }));
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
                                 auto reader = connection_->containers->ListStream(ctx, request);
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
                  return connection_->containers->Delete(ctx, request, &response);
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
  CONTD_RETURN_IF_ERROR(
      invoke(Call{"tasks.Create", "create task", ns, id}, timeout, [&](grpc::ClientContext* ctx) {
        return connection_->tasks->Create(ctx, request, &response);
      }));
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
      [&](grpc::ClientContext* ctx) { return connection_->tasks->Start(ctx, request, &response); });
}

Result<TaskState> GrpcClient::getTask(std::string_view ns, std::string_view id) {
  tasks_v1::GetRequest request;
  request.set_container_id(std::string(id));
  tasks_v1::GetResponse response;
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.Get", "get task", ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return connection_->tasks->Get(ctx, request, &response); }));
  return toTaskState(response.process());
}

Result<std::vector<TaskState>> GrpcClient::listTasks(std::string_view ns) {
  tasks_v1::ListTasksRequest request;
  tasks_v1::ListTasksResponse response;
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.List", "list tasks", ns, ""}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return connection_->tasks->List(ctx, request, &response); }));
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
      [&](grpc::ClientContext* ctx) { return connection_->tasks->Kill(ctx, request, &response); });
}

Result<ExitStatus> GrpcClient::waitTask(std::string_view ns, std::string_view id,
                                        std::chrono::milliseconds timeout) {
  tasks_v1::WaitRequest request;
  request.set_container_id(std::string(id));
  tasks_v1::WaitResponse response;
  // The deadline ends only our wait; containerd and the task are not affected.
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.Wait", "wait for task", ns, id}, timeout,
      [&](grpc::ClientContext* ctx) { return connection_->tasks->Wait(ctx, request, &response); }));
  return ExitStatus{response.exit_status(), toUnixNanos(response.exited_at())};
}

Result<ExitStatus> GrpcClient::deleteTask(std::string_view ns, std::string_view id) {
  tasks_v1::DeleteTaskRequest request;
  request.set_container_id(std::string(id));
  tasks_v1::DeleteResponse response;
  CONTD_RETURN_IF_ERROR(invoke(Call{"tasks.Delete", "delete task", ns, id}, options_.call_timeout,
                               [&](grpc::ClientContext* ctx) {
                                 return connection_->tasks->Delete(ctx, request, &response);
                               }));
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
  return invoke(Call{"containers.Update", "set labels of container", ns, id}, options_.call_timeout,
                [&](grpc::ClientContext* ctx) {
                  return connection_->containers->Update(ctx, request, &response);
                });
}

Status GrpcClient::setSpec(std::string_view ns, std::string_view id, std::string_view spec_json) {
  containers_v1::UpdateContainerRequest request;
  containers_v1::Container* container = request.mutable_container();
  container->set_id(std::string(id));
  container->mutable_spec()->set_type_url(kSpecTypeUrl);
  container->mutable_spec()->set_value(std::string(spec_json));
  request.mutable_update_mask()->add_paths("spec");
  containers_v1::UpdateContainerResponse response;
  return invoke(Call{"containers.Update", "set spec of container", ns, id}, options_.call_timeout,
                [&](grpc::ClientContext* ctx) {
                  return connection_->containers->Update(ctx, request, &response);
                });
}

Status GrpcClient::updateTask(std::string_view ns, std::string_view id,
                              std::string_view resources_json) {
  tasks_v1::UpdateTaskRequest request;
  request.set_container_id(std::string(id));
  request.mutable_resources()->set_type_url(kResourcesTypeUrl);
  request.mutable_resources()->set_value(std::string(resources_json));
  google::protobuf::Empty response;
  return invoke(Call{"tasks.Update", "update task", ns, id}, options_.call_timeout,
                [&](grpc::ClientContext* ctx) {
                  return connection_->tasks->Update(ctx, request, &response);
                });
}

}  // namespace contd::containerd
