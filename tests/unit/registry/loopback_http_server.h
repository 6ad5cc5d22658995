#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for testing CurlHttpClient: one
// thread accepts, one thread per connection reads requests (no request bodies) and writes
// what the test's responder returns. Connections stay open between requests unless the
// answer says otherwise, so connection reuse can be counted.
//
// Threading: the responder runs on connection threads; the accessors may be called from any
// thread. The destructor closes every connection and joins the threads.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace contd::registry::testing {

struct ServedRequest {
  std::string method;
  std::string target;                          // "/path?query"
  std::map<std::string, std::string> headers;  // names lower-cased
};

struct Answer {
  std::string bytes;   // written as they are; empty: close without answering
  bool hang = false;   // after writing, keep the connection open and silent until shutdown
  bool close = false;  // after writing, close the connection
};

// "HTTP/1.1 <status> X\r\n" + headers + Content-Length + body.
std::string httpAnswer(int status, std::string_view body,
                       const std::vector<std::pair<std::string, std::string>>& headers = {});

class LoopbackHttpServer {
public:
  using Responder = std::function<Answer(const ServedRequest&)>;

  explicit LoopbackHttpServer(Responder responder);
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(std::string_view path) const;
  std::vector<ServedRequest> requests() const;
  int connectionsAccepted() const { return connections_accepted_; }

private:
  void acceptLoop();
  void serve(int fd);

  Responder responder_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_accepted_{0};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable stopped_;
  std::vector<ServedRequest> requests_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace contd::registry::testing
