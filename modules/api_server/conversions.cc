#include "modules/api_server/conversions.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include <google/protobuf/util/time_util.h>

namespace contd::api {
namespace {

using google::protobuf::util::TimeUtil;

std::vector<std::string> toVector(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

void setRepeated(const std::vector<std::string>& values,
                 google::protobuf::RepeatedPtrField<std::string>* field) {
  field->Assign(values.begin(), values.end());
}


std::uint64_t millis(std::chrono::milliseconds duration) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, duration.count()));
}

container::HealthCheckSpec fromProto(const v1::HealthCheck& proto) {
  return {.argv = toVector(proto.argv()),
          .interval = millisFromProto(proto.interval_ms()),
          .timeout = millisFromProto(proto.timeout_ms()),
          .retries = proto.retries(),
          .start_period = millisFromProto(proto.start_period_ms())};
}

v1::HealthCheck toProto(const container::HealthCheckSpec& health) {
  v1::HealthCheck proto;
  setRepeated(health.argv, proto.mutable_argv());
  proto.set_interval_ms(millis(health.interval));
  proto.set_timeout_ms(millis(health.timeout));
  proto.set_retries(health.retries);
  proto.set_start_period_ms(millis(health.start_period));
  return proto;
}

container::HealthState fromProto(const v1::HealthState& proto) {
  container::HealthState state;
  switch (proto.status()) {
    case v1::HealthState::HEALTHY: state.status = container::HealthStatus::kHealthy; break;
    case v1::HealthState::UNHEALTHY: state.status = container::HealthStatus::kUnhealthy; break;
    default: state.status = container::HealthStatus::kStarting; break;
  }
  state.failing_streak = proto.failing_streak();
  for (const auto& result : proto.log()) {
    state.log.push_back({.start = TimeUtil::TimestampToNanoseconds(result.start()),
                         .end = TimeUtil::TimestampToNanoseconds(result.end()),
                         .exit_code = result.exit_code(),
                         .output = result.output()});
  }
  return state;
}

}  // namespace

std::chrono::milliseconds millisFromProto(std::uint64_t ms) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(
      std::min<std::uint64_t>(ms, std::numeric_limits<std::int64_t>::max())));
}

v1::HealthResult toProto(const container::HealthResult& result) {
  v1::HealthResult proto;
  if (result.start != 0) {
    *proto.mutable_start() = TimeUtil::NanosecondsToTimestamp(result.start);
  }
  if (result.end != 0) {
    *proto.mutable_end() = TimeUtil::NanosecondsToTimestamp(result.end);
  }
  proto.set_exit_code(result.exit_code);
  proto.set_output(result.output);
  return proto;
}

v1::HealthState toProto(const container::HealthState& state) {
  v1::HealthState proto;
  switch (state.status) {
    case container::HealthStatus::kStarting: proto.set_status(v1::HealthState::STARTING); break;
    case container::HealthStatus::kHealthy: proto.set_status(v1::HealthState::HEALTHY); break;
    case container::HealthStatus::kUnhealthy: proto.set_status(v1::HealthState::UNHEALTHY); break;
  }
  proto.set_failing_streak(state.failing_streak);
  for (const auto& result : state.log) {
    *proto.add_log() = toProto(result);
  }
  return proto;
}

container::ContainerSpec fromProto(const v1::ContainerSpec& proto) {
  container::ContainerSpec spec;
  spec.name = proto.name();
  spec.rootfs = proto.rootfs();
  spec.image = proto.image();
  spec.entrypoint = proto.entrypoint();
  spec.argv = toVector(proto.argv());
  spec.env = toVector(proto.env());
  spec.working_dir = proto.working_dir();
  spec.network_namespace = proto.network_namespace();
  for (const auto& mount : proto.mounts()) {
    spec.mounts.push_back(container::MountSpec{
        .source = mount.source(), .target = mount.target(), .readonly = mount.readonly()});
  }
  spec.interactive = proto.interactive();
  spec.cpu = proto.cpu();
  spec.memory_bytes = proto.memory_bytes();
  spec.pids_limit = proto.pids_limit();
  spec.hostname = proto.hostname();
  spec.tags = toVector(proto.tags());
  spec.elevated = proto.elevated();
  spec.rootfs_propagation = proto.rootfs_propagation();
  spec.shutdown_timeout = std::chrono::milliseconds(proto.shutdown_timeout_ms());
  spec.seccomp = proto.seccomp();
  spec.readonly_rootfs = proto.readonly_rootfs();
  spec.user = proto.user();
  switch (proto.restart().mode()) {
    case v1::RestartPolicy::NO: spec.restart = container::RestartMode::kNo; break;
    case v1::RestartPolicy::ON_FAILURE: spec.restart = container::RestartMode::kOnFailure; break;
    case v1::RestartPolicy::ALWAYS: spec.restart = container::RestartMode::kAlways; break;
    default: spec.restart = container::RestartMode::kDefault; break;
  }
  spec.restart_max = proto.restart().max_retries();
  spec.auto_remove = proto.auto_remove();
  if (proto.has_health()) {
    spec.health = fromProto(proto.health());
  }
  return spec;
}

v1::ContainerSpec toProto(const container::ContainerSpec& spec) {
  v1::ContainerSpec proto;
  proto.set_name(spec.name);
  proto.set_rootfs(spec.rootfs);
  proto.set_image(spec.image);
  proto.set_entrypoint(spec.entrypoint);
  setRepeated(spec.argv, proto.mutable_argv());
  setRepeated(spec.env, proto.mutable_env());
  proto.set_working_dir(spec.working_dir);
  proto.set_network_namespace(spec.network_namespace);
  for (const auto& mount : spec.mounts) {
    auto* out = proto.add_mounts();
    out->set_source(mount.source);
    out->set_target(mount.target);
    out->set_readonly(mount.readonly);
  }
  proto.set_interactive(spec.interactive);
  proto.set_cpu(spec.cpu);
  proto.set_memory_bytes(spec.memory_bytes);
  proto.set_pids_limit(spec.pids_limit);
  proto.set_hostname(spec.hostname);
  setRepeated(spec.tags, proto.mutable_tags());
  proto.set_elevated(spec.elevated);
  proto.set_rootfs_propagation(spec.rootfs_propagation);
  // A negative duration cannot come from the core's validation; clamp rather than wrap.
  proto.set_shutdown_timeout_ms(
      static_cast<std::uint64_t>(std::max<std::int64_t>(0, spec.shutdown_timeout.count())));
  proto.set_seccomp(spec.seccomp);
  proto.set_readonly_rootfs(spec.readonly_rootfs);
  proto.set_user(spec.user);
  switch (spec.restart) {
    case container::RestartMode::kNo: proto.mutable_restart()->set_mode(v1::RestartPolicy::NO); break;
    case container::RestartMode::kOnFailure:
      proto.mutable_restart()->set_mode(v1::RestartPolicy::ON_FAILURE);
      break;
    case container::RestartMode::kAlways:
      proto.mutable_restart()->set_mode(v1::RestartPolicy::ALWAYS);
      break;
    case container::RestartMode::kDefault: break;
  }
  if (spec.restart_max > 0) {
    proto.mutable_restart()->set_max_retries(spec.restart_max);
  }
  proto.set_auto_remove(spec.auto_remove);
  if (spec.health) {
    *proto.mutable_health() = toProto(*spec.health);
  }
  return proto;
}

v1::ContainerInfo::Status toProto(container::ContainerStatus status) {
  switch (status) {
    case container::ContainerStatus::kCreated: return v1::ContainerInfo::CREATED;
    case container::ContainerStatus::kRunning: return v1::ContainerInfo::RUNNING;
    case container::ContainerStatus::kStopped: return v1::ContainerInfo::STOPPED;
    case container::ContainerStatus::kUnknown: return v1::ContainerInfo::UNKNOWN;
    case container::ContainerStatus::kBackingOff: return v1::ContainerInfo::BACKING_OFF;
    case container::ContainerStatus::kFailed: return v1::ContainerInfo::FAILED;
  }
  return v1::ContainerInfo::UNKNOWN;
}

container::ContainerStatus fromProto(v1::ContainerInfo::Status status) {
  switch (status) {
    case v1::ContainerInfo::CREATED: return container::ContainerStatus::kCreated;
    case v1::ContainerInfo::RUNNING: return container::ContainerStatus::kRunning;
    case v1::ContainerInfo::STOPPED: return container::ContainerStatus::kStopped;
    case v1::ContainerInfo::BACKING_OFF: return container::ContainerStatus::kBackingOff;
    case v1::ContainerInfo::FAILED: return container::ContainerStatus::kFailed;
    default: return container::ContainerStatus::kUnknown;
  }
}

v1::ContainerInfo toProto(const container::ContainerInfo& info) {
  v1::ContainerInfo proto;
  proto.set_namespace_(info.ns);
  *proto.mutable_spec() = toProto(info.spec);
  proto.set_status(toProto(info.status));
  proto.set_pid(info.pid);
  if (info.exit_code >= 0) {
    proto.set_exit_code(info.exit_code);
  }
  // The core uses 0 for "no such time"; in the message that is an absent Timestamp, so a
  // client never shows 1970-01-01.
  if (info.exited_at != 0) {
    *proto.mutable_exited_at() = TimeUtil::NanosecondsToTimestamp(info.exited_at);
  }
  if (info.created_at != 0) {
    *proto.mutable_created_at() = TimeUtil::NanosecondsToTimestamp(info.created_at);
  }
  proto.set_log_path(info.log_path);
  proto.set_restart_count(info.restart_count);
  for (const auto& exit : info.exits) {
    auto* out = proto.add_exits();
    *out->mutable_time() = TimeUtil::NanosecondsToTimestamp(exit.time);
    out->set_exit_code(exit.code);
    out->set_oom_killed(exit.oom_killed);
    out->set_unhealthy(exit.unhealthy);
  }
  if (info.next_retry != 0) {
    *proto.mutable_next_retry() = TimeUtil::NanosecondsToTimestamp(info.next_retry);
  }
  proto.set_stopping(info.stopping);
  proto.set_log_writer_restarts(info.log_writer_restarts);
  proto.set_log_dropped_bytes(info.log_dropped_bytes);
  proto.set_image_digest(info.image_digest);
  proto.set_runtime(info.runtime);
  proto.set_shim_group(info.shim_group);
  switch (info.desired) {
    case container::DesiredState::kRunning: proto.set_desired_state(v1::ContainerInfo::DESIRED_RUNNING); break;
    case container::DesiredState::kStopped: proto.set_desired_state(v1::ContainerInfo::DESIRED_STOPPED); break;
    case container::DesiredState::kRemoved: proto.set_desired_state(v1::ContainerInfo::DESIRED_REMOVED); break;
  }
  if (info.health) {
    *proto.mutable_health() = toProto(*info.health);
  }
  return proto;
}

v1::Event toProto(const container::ModuleEvent& event) {
  using Kind = container::ModuleEvent::Kind;
  v1::Event proto;
  switch (event.kind) {
    case Kind::kStarted: proto.set_kind(v1::Event::STARTED); break;
    case Kind::kExited: proto.set_kind(v1::Event::EXITED); break;
    case Kind::kOom: proto.set_kind(v1::Event::OOM); break;
    case Kind::kBackingOff: proto.set_kind(v1::Event::BACKING_OFF); break;
    case Kind::kRestarted: proto.set_kind(v1::Event::RESTARTED); break;
    case Kind::kGaveUp: proto.set_kind(v1::Event::GAVE_UP); break;
    case Kind::kDeleted: proto.set_kind(v1::Event::DELETED); break;
    case Kind::kStopped: proto.set_kind(v1::Event::STOPPED); break;
    case Kind::kKilled: proto.set_kind(v1::Event::KILLED); break;
    case Kind::kUpdated: proto.set_kind(v1::Event::UPDATED); break;
    case Kind::kHealthy: proto.set_kind(v1::Event::HEALTHY); break;
    case Kind::kUnhealthy: proto.set_kind(v1::Event::UNHEALTHY); break;
  }
  proto.set_namespace_(event.ns);
  proto.set_id(event.id);
  *proto.mutable_time() = TimeUtil::NanosecondsToTimestamp(event.time);
  proto.set_exit_code(event.exit_code);
  proto.set_pid(event.pid);
  proto.set_message(event.message);
  return proto;
}

container::LimitsUpdate fromProto(const v1::UpdateRequest& proto) {
  container::LimitsUpdate limits;
  if (proto.has_cpu()) {
    limits.cpu = proto.cpu();
  }
  if (proto.has_memory_bytes()) {
    limits.memory_bytes = proto.memory_bytes();
  }
  if (proto.has_pids_limit()) {
    limits.pids_limit = proto.pids_limit();
  }
  return limits;
}

container::ContainerInfo fromProto(const v1::ContainerInfo& proto) {
  container::ContainerInfo info;
  info.ns = proto.namespace_();
  info.spec = fromProto(proto.spec());
  info.status = fromProto(proto.status());
  info.pid = proto.pid();
  info.exit_code = proto.has_exit_code() ? proto.exit_code() : -1;
  if (proto.has_exited_at()) {
    info.exited_at = TimeUtil::TimestampToNanoseconds(proto.exited_at());
  }
  if (proto.has_created_at()) {
    info.created_at = TimeUtil::TimestampToNanoseconds(proto.created_at());
  }
  info.log_path = proto.log_path();
  info.restart_count = proto.restart_count();
  for (const auto& exit : proto.exits()) {
    info.exits.push_back({.time = TimeUtil::TimestampToNanoseconds(exit.time()),
                          .code = exit.exit_code(),
                          .oom_killed = exit.oom_killed(),
                          .unhealthy = exit.unhealthy()});
  }
  if (proto.has_next_retry()) {
    info.next_retry = TimeUtil::TimestampToNanoseconds(proto.next_retry());
  }
  info.stopping = proto.stopping();
  info.log_writer_restarts = proto.log_writer_restarts();
  info.log_dropped_bytes = proto.log_dropped_bytes();
  info.image_digest = proto.image_digest();
  if (proto.desired_state() == v1::ContainerInfo::DESIRED_STOPPED) {
    info.desired = container::DesiredState::kStopped;
  } else if (proto.desired_state() == v1::ContainerInfo::DESIRED_REMOVED) {
    info.desired = container::DesiredState::kRemoved;
  }
  if (proto.has_health()) {
    info.health = fromProto(proto.health());
  }
  return info;
}

grpc::StatusCode toGrpcCode(Code code) {
  switch (code) {
    case Code::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case Code::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case Code::kAlreadyExists: return grpc::StatusCode::ALREADY_EXISTS;
    case Code::kFailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case Code::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case Code::kDeadlineExceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Code::kUnauthenticated: return grpc::StatusCode::UNAUTHENTICATED;
    case Code::kCancelled: return grpc::StatusCode::CANCELLED;
    case Code::kInternal: return grpc::StatusCode::INTERNAL;
    case Code::kUnknown: return grpc::StatusCode::UNKNOWN;
  }
  return grpc::StatusCode::UNKNOWN;
}

grpc::Status toGrpcStatus(const Error& error) {
  return grpc::Status(toGrpcCode(error.code), error.message);
}

Result<std::int64_t> sinceNanoseconds(const google::protobuf::Timestamp& since) {
  using google::protobuf::util::TimeUtil;
  if (since.seconds() < TimeUtil::kTimestampMinSeconds ||
      since.seconds() > TimeUtil::kTimestampMaxSeconds || since.nanos() < 0 ||
      since.nanos() > 999'999'999) {
    return invalidArgument("since: not a valid timestamp (seconds " +
                           std::to_string(since.seconds()) + ", nanos " +
                           std::to_string(since.nanos()) + ")");
  }
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (since.seconds() < 0) {
    return std::int64_t{0};
  }
  if (since.seconds() >= kMax / 1'000'000'000 - 1) {
    return kMax;
  }
  return since.seconds() * 1'000'000'000 + since.nanos();
}

Status fillListPage(const std::vector<container::ContainerInfo>& sorted,
                    const std::string& page_token, v1::ListResponse& response) {
  auto begin = sorted.begin();
  if (!page_token.empty()) {
    const std::size_t slash = page_token.find('/');
    if (slash == std::string::npos || page_token.find('/', slash + 1) != std::string::npos) {
      return invalidArgument("page_token: expected a previous answer's next_page_token");
    }
    const auto after = std::make_pair(page_token.substr(0, slash), page_token.substr(slash + 1));
    begin = std::upper_bound(sorted.begin(), sorted.end(), after,
                             [](const auto& token, const container::ContainerInfo& info) {
                               return token < std::make_pair(info.ns, info.spec.name);
                             });
  }
  std::size_t bytes = 0;
  for (auto it = begin; it != sorted.end(); ++it) {
    v1::ContainerInfo item = toProto(*it);
    const std::size_t size = item.ByteSizeLong();
    if (response.containers_size() > 0 && bytes + size > kListPageBytes) {
      const auto& last = *(it - 1);
      response.set_next_page_token(last.ns + "/" + last.spec.name);
      break;
    }
    bytes += size;
    *response.add_containers() = std::move(item);
  }
  return okStatus();
}

}  // namespace contd::api
