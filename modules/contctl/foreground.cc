#include "modules/contctl/foreground.h"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "modules/contctl/error_text.h"

namespace contd::contctl {
namespace {

using namespace std::chrono_literals;

constexpr int kExitServer = 1;
// auto_remove deletes the task after the exit; the log driver has written everything by
// then (the shim waits for it). Bounded, in case the removal is slow or fails.
constexpr auto kRemovalWait = 5s;
constexpr auto kRemovalPoll = 20ms;

v1::LogsRequest logsOf(const Invocation& inv, bool follow) {
  v1::LogsRequest request;
  request.set_namespace_(inv.ns);
  request.set_id(inv.name);
  request.set_follow(follow);
  return request;
}

}  // namespace

void printLogLine(const v1::LogLine& line, bool flush) {
  std::FILE* out = line.stream() == "stderr" ? stderr : stdout;
  std::fwrite(line.text().data(), 1, line.text().size(), out);
  std::fputc('\n', out);
  if (flush) {
    std::fflush(out);
  }
}

int runInForeground(Client& client, const Invocation& inv) {
  auto ran = client.run(inv.ns, inv.spec);
  if (!ran) {
    printError(inv, ran.error().message);
    return kExitServer;
  }
  std::mutex mu;
  grpc::ClientContext follow;  // outlives the follower: TryCancel is safe at any time
  std::size_t printed = 0;     // lines printed so far, in log order
  std::thread follower([&] {
    (void)client.logs(
        logsOf(inv, true),
        [&](const v1::LogLine& line) {
          printLogLine(line, true);
          std::lock_guard lock(mu);
          ++printed;
        },
        &follow);
  });
  auto exit = client.wait(inv.ns, inv.name);
  for (auto until = std::chrono::steady_clock::now() + kRemovalWait;
       exit && client.inspect(inv.ns, inv.name).ok() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(kRemovalPoll);
  }
  follow.TryCancel();
  follower.join();
  // What the follow had not sent when it was cancelled: the log past the printed lines.
  std::size_t seen = 0;
  (void)client.logs(logsOf(inv, false), [&](const v1::LogLine& line) {
    if (seen++ >= printed) {
      printLogLine(line, false);
    }
  });
  std::fflush(stdout);
  if (!exit) {
    printError(inv, exit.error().message);
    return kExitServer;
  }
  return exit->exit_code();
}

}  // namespace contd::contctl
