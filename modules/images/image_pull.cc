#include "modules/images/image_pull.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/common/call_observer.h"
#include "modules/common/logging.h"
#include "modules/images/pull_plan.h"
#include "modules/registry/reference.h"
#include "modules/registry/registry_client.h"

namespace contd::images::detail {

namespace {

using State = PullProgress::State;

constexpr std::uint64_t kProgressStep = 512 * 1024;  // bytes between two kFetching reports

// What the pull's threads share: progress reports (one at a time), which layers are in the
// content store (the unpacker waits for them in order), and the first failure. Fetchers
// check stopped() between chunks, so that one failure (or the caller going away) ends them
// all and wakes the unpacker.
class PullState {
public:
  explicit PullState(const PullProgressFn& progress) : progress_(progress) {}

  // Once the manifest is known, before any fetch starts.
  void expectLayers(std::size_t count) {
    std::lock_guard lock(mutex_);
    fetched_.assign(count, false);
  }

  // Layer i is in the content store (fetched, or found there).
  void markFetched(std::size_t i) {
    {
      std::lock_guard lock(mutex_);
      fetched_[i] = true;
    }
    changed_.notify_all();
  }
  // Blocks until layer i is in the content store (true) or the pull stopped (false).
  bool awaitFetched(std::size_t i) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return fetched_[i] || stopped_.load(); });
    return fetched_[i] && !stopped_.load();
  }

  void report(State state, const PlannedBlob& blob, std::uint64_t offset) {
    if (!progress_) {
      return;
    }
    std::lock_guard lock(mutex_);
    PullProgress event{state, blob.digest, blob.media_type, offset, blob.size};
    if (!progress_(event) && !first_error_) {
      first_error_ = makeError(Code::kUnknown, "cancelled by the caller");
      cancelled_ = true;
      stopped_ = true;
      changed_.notify_all();
    }
  }

  void fail(const Error& error) {
    {
      std::lock_guard lock(mutex_);
      if (!first_error_) {
        first_error_ = error;
      }
      stopped_ = true;
    }
    changed_.notify_all();
  }

  bool stopped() const { return stopped_.load(); }
  bool cancelled() const { return cancelled_.load(); }
  std::optional<Error> firstError() const {
    std::lock_guard lock(mutex_);
    return first_error_;
  }

private:
  const PullProgressFn& progress_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<bool> fetched_;
  std::optional<Error> first_error_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> cancelled_{false};
};

// The manifest for our platform, following an index when the tag names one.
Result<PlannedBlob> resolveManifest(registry::RegistryClient& client, std::string_view what) {
  auto fetched = client.fetchManifest(client.reference().manifestReference());
  if (!fetched) {
    return fetched.error();
  }
  if (isIndexMediaType(fetched->media_type)) {
    auto chosen = selectPlatformManifest(fetched->body, what);
    if (!chosen) {
      return chosen.error();
    }
    fetched = client.fetchManifest(chosen->digest);
    if (!fetched) {
      return fetched.error();
    }
  }
  PlannedBlob manifest;
  manifest.media_type = fetched->media_type;
  manifest.digest = fetched->digest;
  manifest.size = fetched->body.size();
  manifest.data = std::move(fetched->body);
  return manifest;
}

// Reads the config (from the content store's point of view: fetched unless present) and
// fills the plan's diff_ids and run settings.
Status fetchConfig(registry::RegistryClient& client, IngestSession& session, ImportPlan& plan,
                   std::string_view what) {
  auto have = session.haveBlob(plan.config.digest);
  if (!have) {
    return have.error();
  }
  auto text = *have ? session.readSmallBlob(plan.config.digest)
                    : client.fetchSmallBlob(
                          {plan.config.media_type, plan.config.digest, plan.config.size});
  if (!text) {
    return text.error();
  }
  plan.config.data = std::move(*text);
  auto config = parseImageConfig(plan.config.data, &plan.diff_ids);
  if (!config) {
    return invalidArgument(std::string(what) + ": " + config.error().message);
  }
  plan.image_config = std::move(*config);
  try {
    const auto json = nlohmann::json::parse(plan.config.data);
    const std::string os = json.value("os", kPlatformOs);
    const std::string arch = json.value("architecture", kPlatformArch);
    if (os != kPlatformOs || arch != kPlatformArch) {
      return invalidArgument(std::string(what) + ": the image is for platform " + os + "/" +
                             arch + ", this node runs " + kPlatformOs + "/" + kPlatformArch);
    }
  } catch (const nlohmann::json::exception&) {
    // parseImageConfig accepted it, so it is JSON
  }
  if (plan.diff_ids.size() != plan.layers.size()) {
    return invalidArgument(std::string(what) + ": the manifest has " +
                           std::to_string(plan.layers.size()) + " layers, the config " +
                           std::to_string(plan.diff_ids.size()) + " diff_ids");
  }
  return *have ? okStatus() : session.writeFromMemory(plan.config);
}

// One layer: HTTP body -> Content.Write, with progress and the shared stop flag.
Status fetchLayer(registry::RegistryClient& client, IngestSession& session,
                  const PlannedBlob& layer, std::size_t index, PullState& state) {
  auto writer = session.openWriter(layer);
  std::uint64_t received = 0;
  std::uint64_t reported = 0;
  state.report(State::kFetching, layer, 0);
  const registry::BodySink sink = [&](std::string_view chunk) -> Status {
    if (state.stopped()) {
      return makeError(Code::kUnknown, "stopped: another part of the pull failed");
    }
    CONTD_RETURN_IF_ERROR(writer->write(chunk));
    received += chunk.size();
    if (received - reported >= kProgressStep) {
      reported = received;
      state.report(State::kFetching, layer, received);
    }
    return okStatus();
  };
  CONTD_RETURN_IF_ERROR(client.fetchBlob({layer.media_type, layer.digest, layer.size}, sink));
  CONTD_RETURN_IF_ERROR(writer->commit());
  state.report(State::kFetched, layer, layer.size);
  state.markFetched(index);
  return okStatus();
}

// Fetches the layers the content store lacks (`missing`: indexes into plan.layers),
// `parallel` at a time on threads of their own, while this thread unpacks layer after
// layer as soon as it and those below it are in: unpacking overlaps the fetch.
void fetchAndUnpack(registry::RegistryClient& client, IngestSession& session,
                    const ImportPlan& plan, const std::vector<std::size_t>& missing,
                    std::size_t parallel, PullState& state) {
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < missing.size() && !state.stopped(); i = next++) {
      const std::size_t layer = missing[i];
      const Status status = fetchLayer(client, session, plan.layers[layer], layer, state);
      if (!status) {
        state.fail(status.error());
      }
    }
  };
  std::vector<std::thread> fetchers;
  const std::size_t count = std::min(std::max<std::size_t>(parallel, 1), missing.size());
  for (std::size_t i = 0; i < count; ++i) {
    fetchers.emplace_back(work);
  }
  for (std::size_t i = 0; i < plan.layers.size() && state.awaitFetched(i); ++i) {
    const Status unpacked = session.unpackLayer(plan, i);
    if (!unpacked) {
      state.fail(unpacked.error());
      break;
    }
    state.report(State::kUnpacked, plan.layers[i], plan.layers[i].size);
  }
  for (auto& fetcher : fetchers) {
    fetcher.join();
  }
}

// Everything after the ref was parsed, under the session's lease.
Result<ImportPlan> pullWithLease(registry::RegistryClient& client, IngestSession& session,
                                 const std::string& name, PullState& state,
                                 std::size_t parallel) {
  auto manifest = resolveManifest(client, session.what());
  if (!manifest) {
    return manifest.error();
  }
  state.report(State::kResolved, *manifest, manifest->size);
  auto plan = planFromManifest(std::move(*manifest), session.what());
  if (!plan) {
    return plan.error();
  }
  state.expectLayers(plan->layers.size());
  CONTD_RETURN_IF_ERROR(session.createLease("pull"));
  CONTD_RETURN_IF_ERROR(fetchConfig(client, session, *plan, session.what()));
  // The manifest is small and known: written (and labelled) before the layers, so that
  // unpacking can start with the first layer in.
  auto have_manifest = session.haveBlob(plan->manifest.digest);
  if (!have_manifest) {
    return have_manifest.error();
  }
  if (!*have_manifest) {
    CONTD_RETURN_IF_ERROR(session.writeFromMemory(plan->manifest));
  }
  CONTD_RETURN_IF_ERROR(session.labelManifest(*plan));
  std::vector<std::size_t> missing;
  for (std::size_t i = 0; i < plan->layers.size(); ++i) {
    const PlannedBlob& layer = plan->layers[i];
    auto have = session.haveBlob(layer.digest);
    if (!have) {
      return have.error();
    }
    state.report(*have ? State::kCached : State::kWaiting, layer, *have ? layer.size : 0);
    if (*have) {
      state.markFetched(i);
    } else {
      missing.push_back(i);
    }
  }
  fetchAndUnpack(client, session, *plan, missing, parallel, state);
  if (auto error = state.firstError()) {
    return *error;
  }
  CONTD_RETURN_IF_ERROR(session.registerImage(*plan, name));
  return plan;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Result<ImageInfo> pullImage(Connection& connection, std::atomic<std::uint64_t>& blobs_written,
                            std::string_view ns, const PullRequest& request,
                            const PullProgressFn& progress, const PullSettings& settings) {
  const auto start = std::chrono::steady_clock::now();
  auto reference = registry::parseReference(request.ref);
  if (!reference) {
    return reference.error();
  }
  const std::string name = reference->name();
  registry::RegistryClient client(settings.http, *reference,
                                  {request.plain_http, {request.username, request.password}});
  IngestSession session(connection, blobs_written, ns, settings.timeouts, "pull '" + name + "'");
  PullState state(progress);
  auto plan = pullWithLease(client, session, name, state, settings.parallel_fetches);
  if (!plan) {
    const Code code = plan.error().code;
    const bool retryable =
        state.cancelled() || code == Code::kUnavailable || code == Code::kDeadlineExceeded;
    session.endLease(retryable ? IngestSession::LeaseEnd::kKeep
                               : IngestSession::LeaseEnd::kDeleteAndCollect);
    log::containerd()->warn("op=pull ns={} image={} failed: {}", ns, name, plan.error().message);
    observe::imagePull(0, secondsSince(start), false);
    return plan.error();
  }
  session.endLease(IngestSession::LeaseEnd::kDelete);
  log::containerd()->info(
      "op=pull ns={} image={} blob_requests={} ms={}", ns, name, client.blobRequests(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            start)
          .count());
  auto info = imageInfo(name, *plan);
  observe::imagePull(info.size, secondsSince(start), true);
  return info;
}

}  // namespace contd::images::detail
