// GrpcClient: processes exec'd into a running task, and a task's cgroup metrics.

#include <google/protobuf/empty.pb.h>

#include <utility>

#include "github.com/containerd/cgroups/stats/v1/metrics.pb.h"
#include "github.com/containerd/containerd/api/types/metrics.pb.h"
#include "modules/common/logging.h"
#include "modules/containerd/grpc_client.h"
#include "modules/containerd/grpc_connection.h"
#include "modules/containerd/grpc_convert.h"

namespace contd::containerd {

using rpc::Call;
using rpc::invoke;
using grpc_detail::quoteFilter;
using grpc_detail::toUnixNanos;

namespace {

namespace cgroups_v1 = ::io::containerd::cgroups::v1;

// As registered by containerd's typeurl for specs.Process (what `ctr task exec` sends).
constexpr char kProcessTypeUrl[] = "types.containerd.io/opencontainers/runtime-spec/1/Process";
// What the runc shim's Stats answers on cgroup v1 and v2 (typeurl names, no host part).
constexpr char kCgroupsV1MetricsType[] = "io.containerd.cgroups.v1.Metrics";
constexpr char kCgroupsV2MetricsType[] = "io.containerd.cgroups.v2.Metrics";

std::string execWhat(std::string_view verb, std::string_view exec_id) {
  return std::string(verb) + " process '" + std::string(exec_id) + "' of task";
}

TaskMetrics toTaskMetrics(const cgroups_v1::Metrics& stats) {
  TaskMetrics metrics;
  metrics.cpu_usage_ns = stats.cpu().usage().total();
  metrics.memory_usage_bytes = stats.memory().usage().usage();
  metrics.memory_limit_bytes = stats.memory().usage().limit();
  metrics.memory_max_usage_bytes = stats.memory().usage().max();
  metrics.memory_limit_hits = stats.memory().usage().failcnt();
  metrics.oom_kills = stats.memory_oom_control().oom_kill();
  metrics.pids_current = stats.pids().current();
  metrics.pids_limit = stats.pids().limit();
  return metrics;
}

}  // namespace

Status GrpcClient::execProcess(std::string_view ns, std::string_view id,
                               const ExecRequest& exec) {
  tasks_v1::ExecProcessRequest request;
  request.set_container_id(std::string(id));
  request.set_exec_id(exec.exec_id);
  request.set_stdin(exec.stdin_uri);
  request.set_stdout(exec.stdout_uri);
  request.set_stderr(exec.terminal ? std::string() : exec.stderr_uri);
  request.set_terminal(exec.terminal);
  request.mutable_spec()->set_type_url(kProcessTypeUrl);
  request.mutable_spec()->set_value(exec.process_spec_json);
  google::protobuf::Empty response;
  const std::string what = execWhat("exec", exec.exec_id);
  return invoke(
      Call{"tasks.Exec", what, ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return connection_->tasks->Exec(ctx, request, &response); });
}

Status GrpcClient::startProcess(std::string_view ns, std::string_view id,
                                std::string_view exec_id) {
  tasks_v1::StartRequest request;
  request.set_container_id(std::string(id));
  request.set_exec_id(std::string(exec_id));
  tasks_v1::StartResponse response;
  const std::string what = execWhat("start", exec_id);
  return invoke(
      Call{"tasks.Start", what, ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return connection_->tasks->Start(ctx, request, &response); });
}

Result<ExitStatus> GrpcClient::waitProcess(std::string_view ns, std::string_view id,
                                           std::string_view exec_id,
                                           std::chrono::milliseconds timeout) {
  tasks_v1::WaitRequest request;
  request.set_container_id(std::string(id));
  request.set_exec_id(std::string(exec_id));
  tasks_v1::WaitResponse response;
  const std::string what = execWhat("wait for", exec_id);
  // As for tasks, the deadline ends only our wait.
  CONTD_RETURN_IF_ERROR(invoke(
      Call{"tasks.Wait", what, ns, id}, timeout,
      [&](grpc::ClientContext* ctx) { return connection_->tasks->Wait(ctx, request, &response); }));
  return ExitStatus{response.exit_status(), toUnixNanos(response.exited_at())};
}

Status GrpcClient::killProcess(std::string_view ns, std::string_view id, std::string_view exec_id,
                               int signal) {
  if (signal <= 0) {
    return invalidArgument(execWhat("kill", exec_id) + " '" + std::string(id) + "' in '" +
                           std::string(ns) + "': invalid signal " + std::to_string(signal));
  }
  tasks_v1::KillRequest request;
  request.set_container_id(std::string(id));
  request.set_exec_id(std::string(exec_id));
  request.set_signal(static_cast<std::uint32_t>(signal));
  google::protobuf::Empty response;
  const std::string what = execWhat("kill", exec_id);
  return invoke(
      Call{"tasks.Kill", what, ns, id}, options_.call_timeout,
      [&](grpc::ClientContext* ctx) { return connection_->tasks->Kill(ctx, request, &response); });
}

Result<ExitStatus> GrpcClient::deleteProcess(std::string_view ns, std::string_view id,
                                             std::string_view exec_id) {
  tasks_v1::DeleteProcessRequest request;
  request.set_container_id(std::string(id));
  request.set_exec_id(std::string(exec_id));
  tasks_v1::DeleteResponse response;
  const std::string what = execWhat("delete", exec_id);
  CONTD_RETURN_IF_ERROR(invoke(Call{"tasks.DeleteProcess", what, ns, id}, options_.call_timeout,
                               [&](grpc::ClientContext* ctx) {
                                 return connection_->tasks->DeleteProcess(ctx, request, &response);
                               }));
  return ExitStatus{response.exit_status(), toUnixNanos(response.exited_at())};
}

Status GrpcClient::closeProcessStdin(std::string_view ns, std::string_view id,
                                     std::string_view exec_id) {
  tasks_v1::CloseIORequest request;
  request.set_container_id(std::string(id));
  request.set_exec_id(std::string(exec_id));
  request.set_stdin(true);
  google::protobuf::Empty response;
  const std::string what = execWhat("close stdin of", exec_id);
  return invoke(Call{"tasks.CloseIO", what, ns, id}, options_.call_timeout,
                [&](grpc::ClientContext* ctx) {
                  return connection_->tasks->CloseIO(ctx, request, &response);
                });
}

Status GrpcClient::resizeProcessPty(std::string_view ns, std::string_view id,
                                    std::string_view exec_id, std::uint32_t width,
                                    std::uint32_t height) {
  tasks_v1::ResizePtyRequest request;
  request.set_container_id(std::string(id));
  request.set_exec_id(std::string(exec_id));
  request.set_width(width);
  request.set_height(height);
  google::protobuf::Empty response;
  const std::string what = execWhat("resize the terminal of", exec_id);
  return invoke(Call{"tasks.ResizePty", what, ns, id}, options_.call_timeout,
                [&](grpc::ClientContext* ctx) {
                  return connection_->tasks->ResizePty(ctx, request, &response);
                });
}

Result<TaskMetrics> GrpcClient::metrics(std::string_view ns, std::string_view id) {
  tasks_v1::MetricsRequest request;
  // Fields the filter knows: id, namespace (services/tasks/local.go, getTasksMetrics).
  request.add_filters("id==" + quoteFilter(id));
  tasks_v1::MetricsResponse response;
  CONTD_RETURN_IF_ERROR(invoke(Call{"tasks.Metrics", "get metrics of task", ns, id},
                               options_.call_timeout, [&](grpc::ClientContext* ctx) {
                                 return connection_->tasks->Metrics(ctx, request, &response);
                               }));
  const std::string what = "get metrics of task '" + std::string(id) + "' in '" +
                           std::string(ns) + "'";
  for (const auto& metric : response.metrics()) {
    if (metric.id() != id) {
      continue;
    }
    const std::string& type_url = metric.data().type_url();
    const std::string_view type = std::string_view(type_url).substr(type_url.rfind('/') + 1);
    if (type == kCgroupsV2MetricsType) {
      return failedPrecondition(what + ": cgroup v2 metrics are not supported");
    }
    if (type != kCgroupsV1MetricsType) {
      return internalError(what + ": unexpected metrics type '" + type_url + "'");
    }
    cgroups_v1::Metrics stats;
    if (!stats.ParseFromString(metric.data().value())) {
      return internalError(what + ": cannot decode " + std::string(type));
    }
    return toTaskMetrics(stats);
  }
  // containerd answers an empty list both for an unknown task and for a task whose cgroup
  // it cannot load (it only logs the error): ask which one it is.
  auto task = getTask(ns, id);
  if (!task) {
    return task.error().wrap("get metrics");
  }
  return unavailable(what + ": containerd returned no metrics (it cannot read the task's " +
                     "cgroup; on cgroup v1 a hierarchy that exists but is not mounted, e.g. " +
                     "hugetlb, causes this: see containerd's log)");
}

}  // namespace contd::containerd
