#pragma once
// contctl's calls to contd: one method per RPC over one channel to the unix socket.
//
// Errors: the server's status as an Error whose message reads "<CODE>: <message>"
// (e.g. "NOT_FOUND: container \"web\" in namespace \"demo\": not found"), ready for
// "contctl: " in front. A daemon that is not there is "UNAVAILABLE: ..." naming the socket.
// Deadlines: reads give up after 10 s; run and rm wait as long as contd takes (contd bounds
// both: task create and the shutdown timeout).
// Threads: one thread (contctl's main).

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "contd/v1/containers.grpc.pb.h"
#include "modules/common/result.h"

namespace contd::contctl {

class Client {
public:
  explicit Client(const std::string& socket_path);

  // How long reads (ls, inspect, stats, ...) wait for contd.
  static constexpr std::chrono::seconds kReadDeadline{10};

  Result<v1::ListNamespacesResponse> listNamespaces();
  Result<v1::ListResponse> list(const std::string& ns);
  Result<v1::InspectResponse> inspect(const std::string& ns, const std::string& name);
  Result<v1::RunResponse> run(const std::string& ns, const v1::ContainerSpec& spec);
  Result<v1::DeleteResponse> remove(const std::string& ns, const std::string& name);
  Result<v1::ExecResponse> exec(const std::string& ns, const std::string& name,
                                const std::vector<std::string>& argv, std::uint64_t timeout_ms);
  // An ExecStream on the caller's `context` (outliving the stream); the caller writes the
  // ExecStart first, then reads and writes from at most one thread each.
  using ExecStreamIo = grpc::ClientReaderWriter<v1::ExecStreamRequest, v1::ExecStreamResponse>;
  std::unique_ptr<ExecStreamIo> execStream(grpc::ClientContext* context);
  // A stream's final status as the other calls answer it.
  static Status toStatus(const grpc::Status& status);
  Result<v1::StatsResponse> stats(const std::string& ns, const std::string& name);
  Result<v1::ImportImageResponse> importImage(const std::string& ns, const std::string& path,
                                              const std::string& name);
  // ImportImageStream: `header`, then what `read` gives (it fills its argument with the
  // next chunk and returns its length, 0 at the end), calling `on_sent` with the bytes
  // sent so far after each chunk. No deadline (contd bounds the import).
  Result<v1::ImportImageResponse> importImageStream(
      const v1::ImportImageHeader& header,
      const std::function<Result<std::size_t>(std::string*)>& read,
      const std::function<void(std::uint64_t)>& on_sent);
  // Calls `on_step` per progress message; the last one (DONE) carries the image.
  Status pullImage(const v1::PullImageRequest& request,
                   const std::function<void(const v1::PullImageProgress&)>& on_step);
  Result<v1::ListImagesResponse> listImages(const std::string& ns);
  Result<v1::RemoveImageResponse> removeImage(const std::string& ns, const std::string& name);
  // Stop, Start, Restart, Kill and Wait (docs/lifecycle.md); Wait has no deadline.
  Result<v1::StopResponse> stop(const std::string& ns, const std::string& name,
                                std::uint64_t timeout_ms);
  Result<v1::StartResponse> start(const std::string& ns, const std::string& name);
  Result<v1::StartResponse> restart(const std::string& ns, const std::string& name,
                                    std::uint64_t timeout_ms);
  Result<v1::KillResponse> kill(const std::string& ns, const std::string& name, int signal);
  Result<v1::WaitResponse> wait(const std::string& ns, const std::string& name);
  // Update with the limits `limits` sets (its namespace and id are set here).
  Result<v1::UpdateResponse> update(const std::string& ns, const std::string& name,
                                    v1::UpdateRequest limits);
  // Runs the container's health check now; no deadline (contd bounds it by its timeout).
  Result<v1::RunHealthCheckResponse> runHealthCheck(const std::string& ns,
                                                    const std::string& name);
  // Calls `on_line` for each line until the stream ends (without follow: after the last
  // written line). With `context` (the caller's, outliving the call), another thread may
  // end a follow with context->TryCancel().
  Status logs(const v1::LogsRequest& request,
              const std::function<void(const v1::LogLine&)>& on_line,
              grpc::ClientContext* context = nullptr);
  // contd about itself: versions; then the configuration in effect and counts.
  Result<v1::VersionResponse> version();
  Result<v1::InfoResponse> info();
  // Calls `on_event` for each event until the stream ends (contd stops) or fails.
  Status followEvents(const std::string& ns, const std::function<void(const v1::Event&)>& on_event);

  // One attempt of a stream, for callers that reconnect (reconnect.h): its final status,
  // and whether contd had taken the call (sent the stream's initial metadata, or a message)
  // before it ended.
  struct StreamEnd {
    grpc::Status status;
    bool established = false;
  };
  StreamEnd logsOnce(const v1::LogsRequest& request,
                     const std::function<void(const v1::LogLine&)>& on_line);
  StreamEnd eventsOnce(const std::string& ns,
                       const std::function<void(const v1::Event&)>& on_event);
  // A new channel to the socket, for the next call: a channel that saw contd go away waits
  // out gRPC's own reconnect backoff (seconds), a new one connects at once.
  void reconnect();

private:
  // One unary call of `method` on a context without deadline.
  template <typename Request, typename Response>
  Result<Response> call(grpc::Status (v1::Containers::Stub::*method)(grpc::ClientContext*,
                                                                      const Request&, Response*),
                        const Request& request);

  std::string socket_path_;
  std::unique_ptr<v1::Containers::Stub> stub_;
};

}  // namespace contd::contctl
