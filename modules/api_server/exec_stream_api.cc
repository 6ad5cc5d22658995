// ContainersApi::ExecStream: an interactive exec (container/exec_session.h) over one
// bidirectional stream. The call's thread pumps the process's output to the caller; a
// reader thread applies the caller's messages (stdin, close_stdin, resize, signal).

#include <algorithm>
#include <chrono>
#include <future>
#include <limits>
#include <optional>
#include <string>
#include <thread>

#include "modules/api_server/containers_api.h"
#include "modules/api_server/containers_api_serve.h"
#include "modules/common/logging.h"
#include "modules/common/printable.h"

namespace contd::api {
namespace {

using namespace std::chrono_literals;
using ExecStreamIo = grpc::ServerReaderWriter<v1::ExecStreamResponse, v1::ExecStreamRequest>;

// How long the caller has to close its side after the exit was sent, before the call is
// cancelled under it.
constexpr auto kCloseGrace = 2s;

container::ExecStreamOptions fromProto(const v1::ExecStart& start) {
  container::ExecStreamOptions options;
  options.argv.assign(start.argv().begin(), start.argv().end());
  options.tty = start.tty();
  options.stdin = start.stdin();
  options.width = start.size().width();
  options.height = start.size().height();
  options.timeout = millisFromProto(start.timeout_ms());
  return options;
}

Status apply(const v1::ExecStreamRequest& message, container::ExecSession& session) {
  switch (message.message_case()) {
    case v1::ExecStreamRequest::kStdin:
      return session.writeStdin(message.stdin());
    case v1::ExecStreamRequest::kCloseStdin:
      return message.close_stdin() ? session.closeStdin() : okStatus();
    case v1::ExecStreamRequest::kResize:
      return session.resize(message.resize().width(), message.resize().height());
    case v1::ExecStreamRequest::kSignal:
      return session.signal(message.signal());
    case v1::ExecStreamRequest::kStart:
      return invalidArgument("start: only the first message may be an ExecStart");
    default:
      return invalidArgument("message: empty (none of stdin, close_stdin, resize, signal)");
  }
}

bool writeExit(ExecStreamIo& stream, const container::ExecExit& exit) {
  v1::ExecStreamResponse response;
  response.mutable_exit()->set_exit_code(exit.exit_code);
  response.mutable_exit()->set_timed_out(exit.timed_out);
  return stream.Write(response);
}

// Reads the caller's messages into the session until the caller closes its side, the
// session ends or a message is bad (then the process is killed and the error returned).
Status readInput(grpc::ServerContext& context, ExecStreamIo& stream,
                 container::ExecSession& session) {
  v1::ExecStreamRequest message;
  while (stream.Read(&message)) {
    Status applied = apply(message, session);
    if (applied) {
      continue;
    }
    if (applied.error().code == Code::kCancelled) {
      return okStatus();  // the process ended: nothing left to feed
    }
    session.cancel();
    return applied;
  }
  if (context.IsCancelled()) {
    session.cancel();  // the caller is gone
  } else {
    (void)session.closeStdin();  // the caller can send nothing more
  }
  return okStatus();
}

Status streamSession(grpc::ServerContext& context, ExecStreamIo& stream,
                     container::ExecSession& session, const v1::ExecStart& start) {
  auto input = std::async(std::launch::async,
                          [&] { return readInput(context, stream, session); });
  const auto exit = session.pump([&](container::ExecOutput kind, std::string_view data) {
    v1::ExecStreamResponse response;
    if (kind == container::ExecOutput::kStdout) {
      response.set_stdout(std::string(data));
    } else {
      response.set_stderr(std::string(data));
    }
    return stream.Write(response);
  });
  writeExit(stream, exit);
  if (input.wait_for(kCloseGrace) != std::future_status::ready) {
    context.TryCancel();
  }
  Status input_status = input.get();
  log::container()->info("exec ns={} id={} exec_id={} op=exec-stream code={} timed_out={}",
                         printable(start.namespace_()), printable(start.id()), session.execId(), exit.exit_code, exit.timed_out);
  return input_status;
}

}  // namespace

grpc::Status ContainersApi::ExecStream(grpc::ServerContext* context, ExecStreamIo* stream) {
  v1::ExecStreamRequest first;
  const bool got = stream->Read(&first);
  const v1::ExecStart& start = first.start();
  return serve(context, "ExecStream", start.namespace_(), start.id(), [&]() -> Status {
    if (!got || !first.has_start()) {
      return invalidArgument("start: the first message must be an ExecStart");
    }
    auto session = core_.startExec(start.namespace_(), start.id(), fromProto(start));
    if (session) {
      return streamSession(*context, *stream, **session, start);
    }
    const auto code = container::shellCodeForStartFailure(session.error());
    if (!code) {
      return session.error();
    }
    // Like a shell: the reason on stderr, then 126 or 127.
    v1::ExecStreamResponse reason;
    reason.set_stderr(session.error().message + "\n");
    stream->Write(reason);
    writeExit(*stream, container::ExecExit{.exit_code = *code});
    return okStatus();
  });
}

}  // namespace contd::api
