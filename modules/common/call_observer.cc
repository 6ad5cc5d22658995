#include "modules/common/call_observer.h"

#include <atomic>

namespace contd::observe {
namespace {
std::atomic<CallObserver*> g_observer{nullptr};
}  // namespace

void install(CallObserver* observer) { g_observer.store(observer, std::memory_order_release); }

void apiCall(std::string_view method, std::string_view code, double seconds) {
  if (auto* observer = g_observer.load(std::memory_order_acquire)) {
    observer->apiCall(method, code, seconds);
  }
}

void containerdCall(std::string_view op, std::string_view code, double seconds) {
  if (auto* observer = g_observer.load(std::memory_order_acquire)) {
    observer->containerdCall(op, code, seconds);
  }
}

void imagePull(std::uint64_t bytes, double seconds, bool ok) {
  if (auto* observer = g_observer.load(std::memory_order_acquire)) {
    observer->imagePull(bytes, seconds, ok);
  }
}

}  // namespace contd::observe
