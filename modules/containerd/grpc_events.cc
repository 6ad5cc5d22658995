// GrpcClient::subscribe: containerd's event stream, read by a thread the Subscription owns.
//
// Why a probe: Events.Subscribe is a server stream, and containerd sends nothing (not even
// headers) until the first event, so the client cannot tell when containerd has registered
// the subscriber. Callers subscribe first and then reconcile, which is only sound when every
// event after subscribe() returns is delivered. So subscribe() forwards an envelope of its
// own on a topic only this subscription matches and returns once it has come back: the
// exchange delivers in order, so the subscriber was registered before the probe went out.

#include <google/protobuf/empty.pb.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "github.com/containerd/containerd/api/events/task.pb.h"
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

namespace events = ::containerd::events;

// The probe's envelope. The namespace need not exist: Forward only checks its syntax.
constexpr char kProbeNamespace[] = "contd";
constexpr char kProbeTopicPrefix[] = "/contd/subscribed/";
constexpr auto kFirstProbeInterval = std::chrono::milliseconds(20);
constexpr auto kMaxProbeInterval = std::chrono::milliseconds(500);
// How long subscribe() waits for the channel to (re)connect before answering kUnavailable.
constexpr auto kConnectWait = std::chrono::milliseconds(1000);

std::string randomToken() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string token;
  for (int i = 0; i < 4; ++i) {
    auto bits = device();
    for (int j = 0; j < 8; ++j, bits >>= 4) {
      token += kHex[bits & 0xf];
    }
  }
  return token;
}

// The event's type name: containerd sends type URLs without a host part
// ("containerd.events.TaskExit"), but accept "<host>/<name>" all the same.
std::string_view typeName(std::string_view type_url) {
  const auto slash = type_url.rfind('/');
  return slash == std::string_view::npos ? type_url : type_url.substr(slash + 1);
}

// protobuf's Any::UnpackTo refuses type URLs without a '/', hence ParseFromString.
Event decode(const events_v1::Envelope& envelope) {
  Event event;
  event.ns = envelope.namespace_();
  event.topic = envelope.topic();
  event.timestamp = toUnixNanos(envelope.timestamp());
  const std::string_view type = typeName(envelope.event().type_url());
  const std::string& value = envelope.event().value();
  bool parsed = true;
  if (type == "containerd.events.TaskExit") {
    events::TaskExit exit;
    if ((parsed = exit.ParseFromString(value))) {
      event.kind = Event::Kind::kTaskExit;
      event.container_id = exit.container_id();
      event.process_id = exit.id();
      event.pid = exit.pid();
      event.exit_status = exit.exit_status();
      if (const UnixNanos at = toUnixNanos(exit.exited_at()); at != 0) {
        event.timestamp = at;
      }
    }
  } else if (type == "containerd.events.TaskOOM") {
    events::TaskOOM oom;
    if ((parsed = oom.ParseFromString(value))) {
      event.kind = Event::Kind::kTaskOom;
      event.container_id = oom.container_id();
    }
  } else if (type == "containerd.events.TaskStart") {
    events::TaskStart start;
    if ((parsed = start.ParseFromString(value))) {
      event.kind = Event::Kind::kTaskStart;
      event.container_id = start.container_id();
      event.pid = start.pid();
    }
  } else if (type == "containerd.events.TaskDelete") {
    events::TaskDelete deleted;
    if ((parsed = deleted.ParseFromString(value))) {
      event.kind = Event::Kind::kTaskDelete;
      event.container_id = deleted.container_id();
      event.process_id = deleted.id();
      event.pid = deleted.pid();
      event.exit_status = deleted.exit_status();
      if (const UnixNanos at = toUnixNanos(deleted.exited_at()); at != 0) {
        event.timestamp = at;
      }
    }
  }
  if (!parsed) {
    log::containerd()->warn("undecodable event ns={} topic={} type={}", event.ns, event.topic,
                            type);
  }
  return event;
}

// How the stream ended, from the point of view of the subscriber: containerd went away
// (UNAVAILABLE), or ended the stream itself (OK, CANCELLED or UNKNOWN on shutdown); either
// way the owner should subscribe again once containerd answers, hence kUnavailable.
Error brokenError(const grpc::Status& status) {
  if (status.ok()) {
    return unavailable("containerd event stream: containerd ended the stream");
  }
  Code code = grpcToCode(status.error_code());
  if (code == Code::kUnknown) {
    code = Code::kUnavailable;
  }
  return makeError(code, "containerd event stream: " + status.error_message());
}

class GrpcSubscription final : public Subscription {
public:
  GrpcSubscription(std::shared_ptr<Connection> connection, EventCallback on_event,
                   BrokenCallback on_broken, std::string probe_topic)
      : connection_(std::move(connection)),
        on_event_(std::move(on_event)),
        on_broken_(std::move(on_broken)),
        probe_topic_(std::move(probe_topic)) {}

  ~GrpcSubscription() override {
    closing_.store(true);
    context_.TryCancel();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  // Starts the call and the thread that reads it. The stream has no deadline, and no
  // namespace: it spans them all.
  Status start(const events_v1::SubscribeRequest& request) {
    const rpc::Call call{.op = "events.Subscribe", .what = "subscribe to containerd events"};
    CONTD_RETURN_IF_ERROR(rpc::prepare(&context_, call, rpc::kNoDeadline));
    reader_ = connection_->events->Subscribe(&context_, request);
    thread_ = std::thread([this] { run(); });
    return okStatus();
  }

  // Waits up to `timeout` for the probe (ok) or the end of the stream (its error). After
  // an error the subscription is abandoned: it delivers nothing and never calls on_broken.
  Status awaitReady(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return state_ == State::kReady || end_error_; });
    if (state_ == State::kReady) {
      return okStatus();
    }
    state_ = State::kAbandoned;
    if (end_error_) {
      return *end_error_;
    }
    return makeError(Code::kDeadlineExceeded,
                     "containerd did not confirm the subscription within " +
                         std::to_string(timeout.count()) + " ms");
  }

  bool waitForProbe(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return state_ == State::kReady || end_error_; });
  }

private:
  enum class State { kStarting, kReady, kAbandoned };

  void run() {
    events_v1::Envelope envelope;
    // Events that come before the probe are held back until it confirms the subscription,
    // so an abandoned subscription has delivered nothing.
    std::vector<Event> early;
    bool ready = false;
    while (reader_->Read(&envelope)) {
      if (envelope.topic() == probe_topic_) {
        if (!ready) {
          ready = becomeReady();
          for (const Event& event : early) {
            if (ready) {
              on_event_(event);
            }
          }
          early.clear();
        }
        continue;
      }
      Event event = decode(envelope);
      if (ready) {
        on_event_(event);
      } else {
        early.push_back(std::move(event));
      }
    }
    const grpc::Status status = reader_->Finish();
    Error error = brokenError(status);
    bool report = false;
    {
      std::lock_guard lock(mu_);
      report = state_ == State::kReady && !closing_.load();
      end_error_ = error;
    }
    cv_.notify_all();
    if (report) {
      log::containerd()->debug("event stream broke code={} error=\"{}\"", codeName(error.code),
                               error.message);
      on_broken_(error);
    }
  }

  bool becomeReady() {
    {
      std::lock_guard lock(mu_);
      if (state_ != State::kStarting) {
        return false;
      }
      state_ = State::kReady;
    }
    cv_.notify_all();
    return true;
  }

  std::shared_ptr<Connection> connection_;  // outlives the call, even past the client
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<events_v1::Envelope>> reader_;
  EventCallback on_event_;
  BrokenCallback on_broken_;
  const std::string probe_topic_;
  std::atomic<bool> closing_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kStarting;  // guarded by mu_
  std::optional<Error> end_error_;  // guarded by mu_; set when the stream has ended

  std::thread thread_;  // last: joined before anything above is destroyed
};

}  // namespace

Result<std::unique_ptr<Subscription>> GrpcClient::subscribe(std::vector<std::string> topics,
                                                            EventCallback on_event,
                                                            BrokenCallback on_broken) {
  if (!on_event || !on_broken) {
    return invalidArgument("subscribe to containerd events: missing callback");
  }
  const std::string probe_topic = kProbeTopicPrefix + randomToken();
  events_v1::SubscribeRequest request;
  for (const auto& topic : topics) {
    request.add_filters("topic==" + quoteFilter(topic));  // filters are ORed
  }
  if (topics.empty()) {
    request.add_filters(R"(topic~="^/")");  // every topic: the probe's filter alone would not
  }
  request.add_filters("topic==" + quoteFilter(probe_topic));

  // After containerd went away, fail-fast calls alone can leave the channel in
  // TRANSIENT_FAILURE long after containerd is back (seen with gRPC 1.51: the subchannel
  // goes IDLE after its backoff and nothing asks it to connect again, or a connection
  // attempt times out waiting for SETTINGS because no thread polls it). WaitForConnected
  // asks for a connection and polls it, so the caller's re-subscribe loop also revives the
  // channel for every other call, the image store's included (one Connection).
  if (!connection_->channel->WaitForConnected(std::chrono::system_clock::now() +
                                              std::min(options_.call_timeout, kConnectWait))) {
    log::containerd()->debug("op=events.Subscribe ms={} code=unavailable", kConnectWait.count());
    return unavailable("subscribe to containerd events: containerd at '" + socket_path_ +
                       "' did not answer within " + std::to_string(kConnectWait.count()) +
                       " ms");
  }

  auto subscription = std::make_unique<GrpcSubscription>(connection_, std::move(on_event),
                                                         std::move(on_broken), probe_topic);
  CONTD_RETURN_IF_ERROR(subscription->start(request));

  events_v1::ForwardRequest probe;
  auto* envelope = probe.mutable_envelope();
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  envelope->mutable_timestamp()->set_seconds(now / 1'000'000'000);
  envelope->mutable_timestamp()->set_nanos(static_cast<int>(now % 1'000'000'000));
  envelope->set_namespace_(kProbeNamespace);
  envelope->set_topic(probe_topic);
  envelope->mutable_event()->PackFrom(google::protobuf::Empty());

  // The probe may reach containerd before the subscription does (two HTTP/2 streams, served
  // concurrently): forward it again, more slowly, until it comes back.
  const auto deadline = std::chrono::steady_clock::now() + options_.call_timeout;
  auto interval = std::chrono::milliseconds(kFirstProbeInterval);
  const Call call{"events.Forward", "confirm event subscription", "", ""};
  while (std::chrono::steady_clock::now() < deadline) {
    google::protobuf::Empty response;
    Status sent = invoke(call, options_.call_timeout, [&](grpc::ClientContext* ctx) {
      return connection_->events->Forward(ctx, probe, &response);
    });
    if (!sent) {
      return sent.error().wrap("subscribe to containerd events");
    }
    if (subscription->waitForProbe(interval)) {
      break;
    }
    interval = std::min<std::chrono::milliseconds>(interval * 2, kMaxProbeInterval);
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (Status ready = subscription->awaitReady(std::max(left, std::chrono::milliseconds(0)));
      !ready) {
    return ready.error().wrap("subscribe to containerd events");
  }
  log::containerd()->debug("op=events.Subscribe topics={} probe={}", topics.size(), probe_topic);
  return std::unique_ptr<Subscription>(std::move(subscription));
}

}  // namespace contd::containerd
