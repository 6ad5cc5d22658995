#pragma once
// contd.v1.Containers over gRPC (sync API): each call converts its request, calls the
// container module and converts the answer; the behaviour lives in ContainerService.
//
// Threads: gRPC calls these methods from its own thread pool, concurrently. The class holds
// no mutable state; ContainerService serialises calls on one container.
// Errors: contd::Error becomes a gRPC status with the same message (conversions.h). An
// exception escaping the core is caught here and answered INTERNAL, never left to unwind
// into gRPC.
// Logging: every call is logged once, at its end, on the "api" logger:
//   call op=Run ns=demo id=web peer_uid=0 peer_pid=4242 code=OK ms=48.3
// at info level (warn for INTERNAL/UNKNOWN/UNAVAILABLE/DEADLINE_EXCEEDED), with
// error="..." when it failed; a call that changes nothing (List, Inspect, Exists, Logs,
// Stats, Events, Wait, ListNamespaces, ListImages, Version, Info) at debug when it succeeds. peer_uid/peer_pid are "-" when the caller is unknown.

#include <string_view>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/api_server/daemon_info.h"
#include "modules/api_server/unix_listener.h"
#include "modules/container/service.h"

namespace contd::api {

class ContainersApi final : public v1::Containers::Service {
public:
  // Both references, and `info` when given, must outlive the gRPC server this service is
  // registered with. Without `info`, Version and Info answer FAILED_PRECONDITION.
  ContainersApi(container::ContainerService& core, const PeerTable& peers,
                DaemonInfoSource* info = nullptr);

  grpc::Status Run(grpc::ServerContext* context, const v1::RunRequest* request,
                   v1::RunResponse* response) override;
  grpc::Status Inspect(grpc::ServerContext* context, const v1::InspectRequest* request,
                       v1::InspectResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const v1::DeleteRequest* request,
                      v1::DeleteResponse* response) override;
  grpc::Status SignalDelete(grpc::ServerContext* context, const v1::SignalDeleteRequest* request,
                            v1::SignalDeleteResponse* response) override;
  grpc::Status List(grpc::ServerContext* context, const v1::ListRequest* request,
                    v1::ListResponse* response) override;
  grpc::Status ListNamespaces(grpc::ServerContext* context,
                              const v1::ListNamespacesRequest* request,
                              v1::ListNamespacesResponse* response) override;
  grpc::Status Exists(grpc::ServerContext* context, const v1::ExistsRequest* request,
                      v1::ExistsResponse* response) override;
  // Images, through the core's ImageStore (ServiceOptions::images); FAILED_PRECONDITION
  // when the daemon has none.
  grpc::Status ImportImage(grpc::ServerContext* context, const v1::ImportImageRequest* request,
                           v1::ImportImageResponse* response) override;
  // The archive sent over the call, spooled to a temporary file (import_stream_api.cc).
  grpc::Status ImportImageStream(grpc::ServerContext* context,
                                 grpc::ServerReader<v1::ImportImageChunk>* reader,
                                 v1::ImportImageResponse* response) override;
  grpc::Status PullImage(grpc::ServerContext* context, const v1::PullImageRequest* request,
                         grpc::ServerWriter<v1::PullImageProgress>* writer) override;
  grpc::Status ListImages(grpc::ServerContext* context, const v1::ListImagesRequest* request,
                          v1::ListImagesResponse* response) override;
  grpc::Status RemoveImage(grpc::ServerContext* context, const v1::RemoveImageRequest* request,
                           v1::RemoveImageResponse* response) override;
  // Streams module events until the client cancels or the server shuts down. Holds one of
  // the server's threads for as long as it streams.
  grpc::Status Events(grpc::ServerContext* context, const v1::EventsRequest* request,
                      grpc::ServerWriter<v1::Event>* writer) override;
  grpc::Status Exec(grpc::ServerContext* context, const v1::ExecRequest* request,
                    v1::ExecResponse* response) override;
  // Holds one of the server's threads, plus a thread of its own reading the caller's
  // input, while the process runs (exec_stream_api.cc).
  grpc::Status ExecStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ExecStreamResponse, v1::ExecStreamRequest>* stream) override;
  grpc::Status Stats(grpc::ServerContext* context, const v1::StatsRequest* request,
                     v1::StatsResponse* response) override;
  // Stop, Start, Restart, Kill and Wait (container/control.h). Wait holds one of the
  // server's threads until the container's process exits or the client cancels.
  grpc::Status Stop(grpc::ServerContext* context, const v1::StopRequest* request,
                    v1::StopResponse* response) override;
  grpc::Status Start(grpc::ServerContext* context, const v1::StartRequest* request,
                     v1::StartResponse* response) override;
  grpc::Status Restart(grpc::ServerContext* context, const v1::RestartRequest* request,
                       v1::StartResponse* response) override;
  grpc::Status Kill(grpc::ServerContext* context, const v1::KillRequest* request,
                    v1::KillResponse* response) override;
  grpc::Status Wait(grpc::ServerContext* context, const v1::WaitRequest* request,
                    v1::WaitResponse* response) override;
  // ContainerControl::update, then the container as Inspect sees it.
  grpc::Status Update(grpc::ServerContext* context, const v1::UpdateRequest* request,
                      v1::UpdateResponse* response) override;
  // Runs the container's health check now (container/health_monitor.h).
  grpc::Status RunHealthCheck(grpc::ServerContext* context,
                              const v1::RunHealthCheckRequest* request,
                              v1::RunHealthCheckResponse* response) override;
  // Sends what is written, then with follow polls the file until the client cancels.
  grpc::Status Logs(grpc::ServerContext* context, const v1::LogsRequest* request,
                    grpc::ServerWriter<v1::LogLine>* writer) override;

  // contd about itself (info_api.cc): versions; then the config in effect and counts.
  grpc::Status Version(grpc::ServerContext* context, const v1::VersionRequest* request,
                       v1::VersionResponse* response) override;
  grpc::Status Info(grpc::ServerContext* context, const v1::InfoRequest* request,
                    v1::InfoResponse* response) override;

private:
  // Runs `body` (returning contd::Status) with the call's logging and exception guard.
  template <typename Body>
  grpc::Status serve(grpc::ServerContext* context, std::string_view op, std::string_view ns,
                     std::string_view id, Body&& body);

  container::ContainerService& core_;
  const PeerTable& peers_;
  DaemonInfoSource* info_;
};

}  // namespace contd::api
