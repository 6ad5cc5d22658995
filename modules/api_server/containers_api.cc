#include "modules/api_server/containers_api.h"
#include "modules/api_server/containers_api_serve.h"

#include <google/protobuf/util/time_util.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <exception>
#include <limits>
#include <string>

#include "api/contd/v1/status_name.h"
#include "api/contd/v1/stream_ready.h"
#include "modules/api_server/conversions.h"
#include "modules/api_server/image_calls.h"
#include "modules/common/logging.h"
#include "modules/common/names.h"
#include "modules/common/printable.h"
#include "modules/container/validation.h"
#include "modules/images/image_names.h"

namespace contd::api {
using Clock = std::chrono::steady_clock;

ContainersApi::ContainersApi(container::ContainerService& core, const PeerTable& peers,
                             DaemonInfoSource* info)
    : core_(core), peers_(peers), info_(info) {}

grpc::Status ContainersApi::Run(grpc::ServerContext* context, const v1::RunRequest* request,
                                    v1::RunResponse* response) {
  return serve(context, "Run", request->namespace_(), request->spec().name(), [&]() -> Status {
    if (!request->has_spec()) {
      return invalidArgument("spec: required");
    }
    auto id = core_.run(request->namespace_(), fromProto(request->spec()));
    if (!id) {
      return id.error();
    }
    response->set_id(*id);
    return okStatus();
  });
}

grpc::Status ContainersApi::Inspect(grpc::ServerContext* context,
                                        const v1::InspectRequest* request,
                                        v1::InspectResponse* response) {
  return serve(context, "Inspect", request->namespace_(), request->id(), [&]() -> Status {
    auto info = core_.inspect(request->namespace_(), request->id());
    if (!info) {
      return info.error();
    }
    *response->mutable_info() = toProto(*info);
    return okStatus();
  });
}

grpc::Status ContainersApi::Delete(grpc::ServerContext* context,
                                       const v1::DeleteRequest* request,
                                       v1::DeleteResponse* /*response*/) {
  return serve(context, "Delete", request->namespace_(), request->id(),
               [&] { return core_.remove(request->namespace_(), request->id()); });
}

grpc::Status ContainersApi::SignalDelete(grpc::ServerContext* context,
                                             const v1::SignalDeleteRequest* request,
                                             v1::SignalDeleteResponse* /*response*/) {
  return serve(context, "SignalDelete", request->namespace_(), request->id(),
               [&] { return core_.signalDelete(request->namespace_(), request->id()); });
}

grpc::Status ContainersApi::List(grpc::ServerContext* context, const v1::ListRequest* request,
                                     v1::ListResponse* response) {
  return serve(context, "List", request->namespace_(), "", [&]() -> Status {
    auto infos = core_.list(request->namespace_());
    if (!infos) {
      return infos.error();
    }
    // The API promises an order, so clients and tests need not sort.
    std::sort(infos->begin(), infos->end(), [](const auto& a, const auto& b) {
      return std::tie(a.ns, a.spec.name) < std::tie(b.ns, b.spec.name);
    });
    return fillListPage(*infos, request->page_token(), *response);
  });
}

grpc::Status ContainersApi::ListNamespaces(grpc::ServerContext* context,
                                               const v1::ListNamespacesRequest* /*request*/,
                                               v1::ListNamespacesResponse* response) {
  return serve(context, "ListNamespaces", "", "", [&]() -> Status {
    auto namespaces = core_.listNamespaces();
    if (!namespaces) {
      return namespaces.error();
    }
    std::sort(namespaces->begin(), namespaces->end());
    response->mutable_namespaces()->Assign(namespaces->begin(), namespaces->end());
    return okStatus();
  });
}

grpc::Status ContainersApi::Exists(grpc::ServerContext* context,
                                       const v1::ExistsRequest* request,
                                       v1::ExistsResponse* response) {
  return serve(context, "Exists", request->namespace_(), request->id(), [&]() -> Status {
    auto exists = core_.exists(request->namespace_(), request->id());
    if (!exists) {
      return exists.error();
    }
    response->set_exists(*exists);
    return okStatus();
  });
}

void imageToProto(const images::ImageInfo& info, v1::ImageInfo* proto) {
  proto->set_name(info.name);
  proto->set_digest(info.manifest_digest);
  proto->set_media_type(info.media_type);
  proto->set_size(info.size);
  for (const auto& diff_id : info.diff_ids) {
    proto->add_diff_ids(diff_id);
  }
  if (info.created_ns != 0) {
    *proto->mutable_created() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(info.created_ns);
  }
}

namespace {

void toProto(const images::PullProgress& step, v1::PullImageProgress* proto) {
  using State = images::PullProgress::State;
  switch (step.state) {
    case State::kResolved: proto->set_state(v1::PullImageProgress::RESOLVED); break;
    case State::kWaiting: proto->set_state(v1::PullImageProgress::WAITING); break;
    case State::kCached: proto->set_state(v1::PullImageProgress::CACHED); break;
    case State::kFetching: proto->set_state(v1::PullImageProgress::FETCHING); break;
    case State::kFetched: proto->set_state(v1::PullImageProgress::FETCHED); break;
    case State::kUnpacked: proto->set_state(v1::PullImageProgress::UNPACKED); break;
  }
  proto->set_digest(step.digest);
  proto->set_media_type(step.media_type);
  proto->set_offset(step.offset);
  proto->set_total(step.total);
}

// Tells the caller at once that contd took a long stream (stream_ready.h), before any
// message: what lets contctl tell "contd went away" from "contd was never there".
template <typename Writer>
void markReady(grpc::ServerContext* context, Writer* writer) {
  context->AddInitialMetadata(api::kStreamReadyKey, "1");
  writer->SendInitialMetadata();
}

}  // namespace

Result<images::ImageStore*> imageStore(container::ContainerService& core, std::string_view ns) {
  CONTD_RETURN_IF_ERROR(validateName("namespace", ns));
  if (core.options().images == nullptr) {
    return failedPrecondition("this contd has no image store");
  }
  return core.options().images;
}

grpc::Status ContainersApi::ImportImage(grpc::ServerContext* context,
                                            const v1::ImportImageRequest* request,
                                            v1::ImportImageResponse* response) {
  return serve(context, "ImportImage", request->namespace_(), request->name(), [&]() -> Status {
    auto store = imageStore(core_, request->namespace_());
    if (!store) {
      return store.error();
    }
    CONTD_RETURN_IF_ERROR(images::checkImageName("name", request->name()));
    if (request->path().empty() || request->path().front() != '/') {
      return invalidArgument("path: must be an absolute path on the daemon's host, got '" +
                             request->path() + "'");
    }
    auto info = (*store)->importImage(request->namespace_(), request->path(), request->name());
    if (!info) {
      return info.error();
    }
    imageToProto(*info, response->mutable_image());
    return okStatus();
  });
}

grpc::Status ContainersApi::PullImage(grpc::ServerContext* context,
                                          const v1::PullImageRequest* request,
                                          grpc::ServerWriter<v1::PullImageProgress>* writer) {
  return serve(context, "PullImage", request->namespace_(), request->ref(), [&]() -> Status {
    auto store = imageStore(core_, request->namespace_());
    if (!store) {
      return store.error();
    }
    images::PullRequest pull{request->ref(), request->username(), request->password(),
                             request->plain_http()};
    // Called one at a time by the pull; false (the caller went away) cancels it.
    const images::PullProgressFn progress = [&](const images::PullProgress& step) {
      v1::PullImageProgress out;
      toProto(step, &out);
      return !context->IsCancelled() && writer->Write(out);
    };
    auto info = (*store)->pullImage(request->namespace_(), pull, progress);
    if (!info) {
      return info.error();
    }
    v1::PullImageProgress done;
    done.set_state(v1::PullImageProgress::DONE);
    imageToProto(*info, done.mutable_image());
    writer->Write(done);
    return okStatus();
  });
}

grpc::Status ContainersApi::ListImages(grpc::ServerContext* context,
                                           const v1::ListImagesRequest* request,
                                           v1::ListImagesResponse* response) {
  return serve(context, "ListImages", request->namespace_(), "", [&]() -> Status {
    auto store = imageStore(core_, request->namespace_());
    if (!store) {
      return store.error();
    }
    auto images = (*store)->listImages(request->namespace_());
    if (!images) {
      return images.error();
    }
    for (const auto& image : *images) {
      imageToProto(image, response->add_images());
    }
    return okStatus();
  });
}

grpc::Status ContainersApi::RemoveImage(grpc::ServerContext* context,
                                            const v1::RemoveImageRequest* request,
                                            v1::RemoveImageResponse* /*response*/) {
  return serve(context, "RemoveImage", request->namespace_(), request->name(), [&]() -> Status {
    auto store = imageStore(core_, request->namespace_());
    if (!store) {
      return store.error();
    }
    // The name as typed, else normalised (image_names.h), as Run finds it.
    auto image = images::findImage(**store, request->namespace_(), request->name());
    if (!image) {
      return image.error().wrap("remove image");
    }
    return (*store)->removeImage(request->namespace_(), image->name);
  });
}

grpc::Status ContainersApi::Events(grpc::ServerContext* context,
                                       const v1::EventsRequest* request,
                                       grpc::ServerWriter<v1::Event>* writer) {
  return serve(context, "Events", request->namespace_(), "", [&]() -> Status {
    // Empty means every namespace; any other value follows the rule of every call, or a
    // typo would wait forever for events that cannot come.
    if (!request->namespace_().empty()) {
      CONTD_RETURN_IF_ERROR(validateName("namespace", request->namespace_()));
    }
    auto listener = core_.events().listen();
    markReady(context, writer);
    // Wakes up now and then to notice a cancelled call or a server going down.
    while (!context->IsCancelled()) {
      auto event = listener->next(std::chrono::milliseconds(200));
      if (!event) {
        continue;
      }
      if (!request->namespace_().empty() && event->ns != request->namespace_()) {
        continue;
      }
      if (!writer->Write(toProto(*event))) {
        break;  // the client went away
      }
    }
    return okStatus();
  });
}

grpc::Status ContainersApi::Exec(grpc::ServerContext* context, const v1::ExecRequest* request,
                                     v1::ExecResponse* response) {
  return serve(context, "Exec", request->namespace_(), request->id(), [&]() -> Status {
    const auto timeout = request->timeout_ms() == 0 ? std::chrono::milliseconds(10'000)
                                                    : millisFromProto(request->timeout_ms());
    std::vector<std::string> argv(request->argv().begin(), request->argv().end());
    auto result = core_.exec(request->namespace_(), request->id(), argv, timeout);
    if (!result) {
      return result.error();
    }
    response->set_exit_code(result->exit_code);
    response->set_timed_out(result->timed_out);
    response->set_output(result->output);
    response->set_truncated(result->truncated);
    return okStatus();
  });
}

grpc::Status ContainersApi::RunHealthCheck(grpc::ServerContext* context,
                                           const v1::RunHealthCheckRequest* request,
                                           v1::RunHealthCheckResponse* response) {
  return serve(context, "RunHealthCheck", request->namespace_(), request->id(), [&]() -> Status {
    auto run = core_.health().runNow(request->namespace_(), request->id());
    if (!run) {
      return run.error();
    }
    *response->mutable_result() = toProto(run->result);
    *response->mutable_state() = toProto(run->state);
    return okStatus();
  });
}

grpc::Status ContainersApi::Stats(grpc::ServerContext* context,
                                      const v1::StatsRequest* request,
                                      v1::StatsResponse* response) {
  return serve(context, "Stats", request->namespace_(), request->id(), [&]() -> Status {
    auto metrics = core_.stats(request->namespace_(), request->id());
    if (!metrics) {
      return metrics.error();
    }
    response->set_cpu_usage_ns(metrics->cpu_usage_ns);
    response->set_memory_usage_bytes(metrics->memory_usage_bytes);
    response->set_memory_limit_bytes(metrics->memory_limit_bytes);
    response->set_memory_max_usage_bytes(metrics->memory_max_usage_bytes);
    response->set_pids_current(metrics->pids_current);
    response->set_pids_limit(metrics->pids_limit);
    return okStatus();
  });
}

grpc::Status ContainersApi::Logs(grpc::ServerContext* context, const v1::LogsRequest* request,
                                     grpc::ServerWriter<v1::LogLine>* writer) {
  return serve(context, "Logs", request->namespace_(), request->id(), [&]() -> Status {
    container::LogQuery query;
    query.tail = request->tail();
    if (request->has_since()) {
      auto since = sinceNanoseconds(request->since());
      if (!since) {
        return since.error();
      }
      query.since = *since;
    }
    auto send = [&](const container::LogLine& line) {
      v1::LogLine out;
      if (line.time != 0) {
        *out.mutable_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(line.time);
      }
      out.set_stream(line.stream);
      out.set_text(line.text);
      return writer->Write(out);
    };
    if (request->previous() && request->follow()) {
      return invalidArgument("follow: a deleted container's log no longer grows; leave follow "
                             "out with previous");
    }
    if (request->follow()) {
      markReady(context, writer);
      return core_.followLogs(request->namespace_(), request->id(), query, send,
                              [&] { return context->IsCancelled(); });
    }
    auto lines = request->previous()
                     ? core_.previousLogs(request->namespace_(), request->id(), query)
                     : core_.logs(request->namespace_(), request->id(), query);
    if (!lines) {
      return lines.error();
    }
    for (const auto& line : *lines) {
      if (!send(line)) {
        break;  // the caller is gone
      }
    }
    return okStatus();
  });
}

namespace {

// A request's timeout_ms as the core's optional timeout: 0 is the container's own.
std::optional<std::chrono::milliseconds> stopTimeout(std::uint64_t timeout_ms) {
  if (timeout_ms == 0) {
    return std::nullopt;
  }
  return millisFromProto(timeout_ms);
}

}  // namespace

grpc::Status ContainersApi::Stop(grpc::ServerContext* context, const v1::StopRequest* request,
                                 v1::StopResponse* /*response*/) {
  return serve(context, "Stop", request->namespace_(), request->id(), [&]() -> Status {
    if (request->timeout_ms() > container::kMaxShutdownTimeout.count()) {
      return invalidArgument("timeout_ms: at most " +
                             std::to_string(container::kMaxShutdownTimeout.count()));
    }
    return core_.control().stop(request->namespace_(), request->id(),
                                stopTimeout(request->timeout_ms()));
  });
}

grpc::Status ContainersApi::Start(grpc::ServerContext* context, const v1::StartRequest* request,
                                  v1::StartResponse* response) {
  return serve(context, "Start", request->namespace_(), request->id(), [&]() -> Status {
    auto pid = core_.control().start(request->namespace_(), request->id());
    if (!pid) {
      return pid.error();
    }
    response->set_pid(*pid);
    return okStatus();
  });
}

grpc::Status ContainersApi::Restart(grpc::ServerContext* context,
                                    const v1::RestartRequest* request,
                                    v1::StartResponse* response) {
  return serve(context, "Restart", request->namespace_(), request->id(), [&]() -> Status {
    if (request->timeout_ms() > container::kMaxShutdownTimeout.count()) {
      return invalidArgument("timeout_ms: at most " +
                             std::to_string(container::kMaxShutdownTimeout.count()));
    }
    auto pid = core_.control().restart(request->namespace_(), request->id(),
                                       stopTimeout(request->timeout_ms()));
    if (!pid) {
      return pid.error();
    }
    response->set_pid(*pid);
    return okStatus();
  });
}

grpc::Status ContainersApi::Kill(grpc::ServerContext* context, const v1::KillRequest* request,
                                 v1::KillResponse* /*response*/) {
  return serve(context, "Kill", request->namespace_(), request->id(), [&]() -> Status {
    const int signal = request->signal() == 0 ? SIGTERM : request->signal();
    return core_.control().kill(request->namespace_(), request->id(), signal);
  });
}

grpc::Status ContainersApi::Wait(grpc::ServerContext* context, const v1::WaitRequest* request,
                                 v1::WaitResponse* response) {
  return serve(context, "Wait", request->namespace_(), request->id(), [&]() -> Status {
    auto result = core_.control().wait(request->namespace_(), request->id(),
                                       [&] { return context->IsCancelled(); });
    if (!result) {
      return result.error();
    }
    response->set_exit_code(result->exit.code);
    response->set_signal(result->signal);
    response->set_oom_killed(result->exit.oom_killed);
    if (result->exit.time != 0) {
      *response->mutable_exited_at() =
          google::protobuf::util::TimeUtil::NanosecondsToTimestamp(result->exit.time);
    }
    return okStatus();
  });
}

grpc::Status ContainersApi::Update(grpc::ServerContext* context, const v1::UpdateRequest* request,
                                   v1::UpdateResponse* response) {
  return serve(context, "Update", request->namespace_(), request->id(), [&]() -> Status {
    CONTD_RETURN_IF_ERROR(
        core_.control().update(request->namespace_(), request->id(), fromProto(*request)));
    auto info = core_.inspect(request->namespace_(), request->id());
    if (!info) {
      return info.error().wrap("updated, but could not inspect it");
    }
    *response->mutable_info() = toProto(*info);
    return okStatus();
  });
}

}  // namespace contd::api
