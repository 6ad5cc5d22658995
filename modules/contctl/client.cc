#include "modules/contctl/client.h"

#include "api/contd/v1/status_name.h"
#include "api/contd/v1/stream_ready.h"

#include <chrono>
#include <optional>

#include <grpcpp/grpcpp.h>

namespace contd::contctl {
namespace {

// The gRPC code is kept in the message as the server's word; contd::Code only needs to say
// "this came from the server". Callers make the call in a statement of its own before
// passing `response`: as two arguments of one call, the move could happen first.
template <typename Response>
Result<Response> answer(const grpc::Status& status, Response response) {
  if (status.ok()) {
    return response;
  }
  return makeError(Code::kUnknown,
                   std::string(api::grpcCodeName(status.error_code())) + ": " +
                       status.error_message());
}

void setReadDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + Client::kReadDeadline);
}

}  // namespace

Client::Client(const std::string& socket_path) : socket_path_(socket_path) { reconnect(); }

void Client::reconnect() {
  stub_ = v1::Containers::NewStub(
      grpc::CreateChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials()));
}

Result<v1::ListNamespacesResponse> Client::listNamespaces() {
  grpc::ClientContext context;
  setReadDeadline(context);
  v1::ListNamespacesResponse response;
  const grpc::Status status = stub_->ListNamespaces(&context, {}, &response);
  return answer(status, std::move(response));
}

Result<v1::VersionResponse> Client::version() {
  grpc::ClientContext context;
  setReadDeadline(context);
  v1::VersionResponse response;
  const grpc::Status status = stub_->Version(&context, {}, &response);
  return answer(status, std::move(response));
}

Result<v1::InfoResponse> Client::info() {
  grpc::ClientContext context;
  setReadDeadline(context);
  v1::InfoResponse response;
  const grpc::Status status = stub_->Info(&context, {}, &response);
  return answer(status, std::move(response));
}

Result<v1::ListResponse> Client::list(const std::string& ns) {
  // Every page, gathered into one answer.
  v1::ListResponse all;
  v1::ListRequest request;
  request.set_namespace_(ns);
  do {
    grpc::ClientContext context;
    setReadDeadline(context);
    v1::ListResponse page;
    const grpc::Status status = stub_->List(&context, request, &page);
    auto answered = answer(status, std::move(page));
    if (!answered) {
      return answered.error();
    }
    for (auto& info : *answered->mutable_containers()) {
      *all.add_containers() = std::move(info);
    }
    request.set_page_token(answered->next_page_token());
  } while (!request.page_token().empty());
  return all;
}

Result<v1::InspectResponse> Client::inspect(const std::string& ns, const std::string& name) {
  grpc::ClientContext context;
  setReadDeadline(context);
  v1::InspectRequest request;
  request.set_namespace_(ns);
  request.set_id(name);
  v1::InspectResponse response;
  const grpc::Status status = stub_->Inspect(&context, request, &response);
  return answer(status, std::move(response));
}

Result<v1::RunResponse> Client::run(const std::string& ns, const v1::ContainerSpec& spec) {
  grpc::ClientContext context;
  v1::RunRequest request;
  request.set_namespace_(ns);
  *request.mutable_spec() = spec;
  v1::RunResponse response;
  const grpc::Status status = stub_->Run(&context, request, &response);
  return answer(status, std::move(response));
}

Result<v1::DeleteResponse> Client::remove(const std::string& ns, const std::string& name) {
  grpc::ClientContext context;
  v1::DeleteRequest request;
  request.set_namespace_(ns);
  request.set_id(name);
  v1::DeleteResponse response;
  const grpc::Status status = stub_->Delete(&context, request, &response);
  return answer(status, std::move(response));
}

Result<v1::ImportImageResponse> Client::importImage(const std::string& ns,
                                                    const std::string& path,
                                                    const std::string& name) {
  grpc::ClientContext context;
  v1::ImportImageRequest request;
  request.set_namespace_(ns);
  request.set_path(path);
  request.set_name(name);
  v1::ImportImageResponse response;
  const grpc::Status status = stub_->ImportImage(&context, request, &response);
  return answer(status, std::move(response));
}

Result<v1::ListImagesResponse> Client::listImages(const std::string& ns) {
  grpc::ClientContext context;
  v1::ListImagesRequest request;
  request.set_namespace_(ns);
  v1::ListImagesResponse response;
  const grpc::Status status = stub_->ListImages(&context, request, &response);
  return answer(status, std::move(response));
}

Result<v1::RemoveImageResponse> Client::removeImage(const std::string& ns,
                                                    const std::string& name) {
  grpc::ClientContext context;
  v1::RemoveImageRequest request;
  request.set_namespace_(ns);
  request.set_name(name);
  v1::RemoveImageResponse response;
  const grpc::Status status = stub_->RemoveImage(&context, request, &response);
  return answer(status, std::move(response));
}

Result<v1::ExecResponse> Client::exec(const std::string& ns, const std::string& name,
                                      const std::vector<std::string>& argv,
                                      std::uint64_t timeout_ms) {
  grpc::ClientContext context;
  v1::ExecRequest request;
  request.set_namespace_(ns);
  request.set_id(name);
  for (const auto& arg : argv) {
    request.add_argv(arg);
  }
  request.set_timeout_ms(timeout_ms);
  v1::ExecResponse response;
  const grpc::Status status = stub_->Exec(&context, request, &response);
  return answer(status, std::move(response));
}

std::unique_ptr<Client::ExecStreamIo> Client::execStream(grpc::ClientContext* context) {
  return stub_->ExecStream(context);
}

Status Client::toStatus(const grpc::Status& status) { return answer(status, Ok{}); }

Result<v1::StatsResponse> Client::stats(const std::string& ns, const std::string& name) {
  grpc::ClientContext context;
  setReadDeadline(context);
  v1::StatsRequest request;
  request.set_namespace_(ns);
  request.set_id(name);
  v1::StatsResponse response;
  const grpc::Status status = stub_->Stats(&context, request, &response);
  return answer(status, std::move(response));
}

template <typename Request, typename Response>
Result<Response> Client::call(grpc::Status (v1::Containers::Stub::*method)(grpc::ClientContext*,
                                                                            const Request&,
                                                                            Response*),
                              const Request& request) {
  grpc::ClientContext context;
  Response response;
  const grpc::Status status = (stub_.get()->*method)(&context, request, &response);
  return answer(status, std::move(response));
}

namespace {

template <typename Request>
Request about(const std::string& ns, const std::string& name) {
  Request request;
  request.set_namespace_(ns);
  request.set_id(name);
  return request;
}

}  // namespace

Result<v1::StopResponse> Client::stop(const std::string& ns, const std::string& name,
                                      std::uint64_t timeout_ms) {
  auto request = about<v1::StopRequest>(ns, name);
  request.set_timeout_ms(timeout_ms);
  return call(&v1::Containers::Stub::Stop, request);
}

Result<v1::StartResponse> Client::start(const std::string& ns, const std::string& name) {
  return call(&v1::Containers::Stub::Start, about<v1::StartRequest>(ns, name));
}

Result<v1::StartResponse> Client::restart(const std::string& ns, const std::string& name,
                                          std::uint64_t timeout_ms) {
  auto request = about<v1::RestartRequest>(ns, name);
  request.set_timeout_ms(timeout_ms);
  return call(&v1::Containers::Stub::Restart, request);
}

Result<v1::KillResponse> Client::kill(const std::string& ns, const std::string& name,
                                      int signal) {
  auto request = about<v1::KillRequest>(ns, name);
  request.set_signal(signal);
  return call(&v1::Containers::Stub::Kill, request);
}

Result<v1::WaitResponse> Client::wait(const std::string& ns, const std::string& name) {
  return call(&v1::Containers::Stub::Wait, about<v1::WaitRequest>(ns, name));
}

Result<v1::UpdateResponse> Client::update(const std::string& ns, const std::string& name,
                                          v1::UpdateRequest limits) {
  limits.set_namespace_(ns);
  limits.set_id(name);
  return call(&v1::Containers::Stub::Update, limits);
}

Result<v1::RunHealthCheckResponse> Client::runHealthCheck(const std::string& ns,
                                                          const std::string& name) {
  return call(&v1::Containers::Stub::RunHealthCheck,
              about<v1::RunHealthCheckRequest>(ns, name));
}

Status Client::logs(const v1::LogsRequest& request,
                    const std::function<void(const v1::LogLine&)>& on_line,
                    grpc::ClientContext* context) {
  grpc::ClientContext own;
  auto reader = stub_->Logs(context != nullptr ? context : &own, request);
  v1::LogLine line;
  while (reader->Read(&line)) {
    on_line(line);
  }
  return answer(reader->Finish(), Ok{});
}

Result<v1::ImportImageResponse> Client::importImageStream(
    const v1::ImportImageHeader& header,
    const std::function<Result<std::size_t>(std::string*)>& read,
    const std::function<void(std::uint64_t)>& on_sent) {
  grpc::ClientContext context;
  v1::ImportImageResponse response;
  auto writer = stub_->ImportImageStream(&context, &response);
  v1::ImportImageChunk chunk;
  *chunk.mutable_header() = header;
  bool open = writer->Write(chunk);  // false: contd answered already (an error)
  std::uint64_t sent = 0;
  std::optional<Error> local;
  while (open) {
    chunk.Clear();
    auto length = read(chunk.mutable_data());
    if (!length) {
      local = length.error();
      context.TryCancel();
      break;
    }
    if (*length == 0) {
      break;
    }
    open = writer->Write(chunk);
    sent += *length;
    on_sent(sent);
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (local) {
    return *local;
  }
  return answer(status, std::move(response));
}

Status Client::pullImage(const v1::PullImageRequest& request,
                         const std::function<void(const v1::PullImageProgress&)>& on_step) {
  grpc::ClientContext context;
  auto reader = stub_->PullImage(&context, request);
  v1::PullImageProgress step;
  while (reader->Read(&step)) {
    on_step(step);
  }
  return answer(reader->Finish(), Ok{});
}

Status Client::followEvents(const std::string& ns,
                            const std::function<void(const v1::Event&)>& on_event) {
  grpc::ClientContext context;
  v1::EventsRequest request;
  request.set_namespace_(ns);
  auto reader = stub_->Events(&context, request);
  v1::Event event;
  while (reader->Read(&event)) {
    on_event(event);
  }
  const grpc::Status status = reader->Finish();
  return answer(status, Ok{});
}

namespace {

// contd marks a stream it has taken with this initial metadata (containers_api.cc).
bool markedEstablished(const grpc::ClientContext& context) {
  return context.GetServerInitialMetadata().count(api::kStreamReadyKey) != 0;
}

}  // namespace

Client::StreamEnd Client::logsOnce(const v1::LogsRequest& request,
                                   const std::function<void(const v1::LogLine&)>& on_line) {
  grpc::ClientContext context;
  auto reader = stub_->Logs(&context, request);
  reader->WaitForInitialMetadata();
  StreamEnd end;
  end.established = markedEstablished(context);
  v1::LogLine line;
  while (reader->Read(&line)) {
    end.established = true;
    on_line(line);
  }
  end.status = reader->Finish();
  return end;
}

Client::StreamEnd Client::eventsOnce(const std::string& ns,
                                     const std::function<void(const v1::Event&)>& on_event) {
  grpc::ClientContext context;
  v1::EventsRequest request;
  request.set_namespace_(ns);
  auto reader = stub_->Events(&context, request);
  reader->WaitForInitialMetadata();
  StreamEnd end;
  end.established = markedEstablished(context);
  v1::Event event;
  while (reader->Read(&event)) {
    end.established = true;
    on_event(event);
  }
  end.status = reader->Finish();
  return end;
}

}  // namespace contd::contctl
