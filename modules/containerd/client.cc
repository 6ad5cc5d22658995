#include "modules/containerd/client.h"

namespace contd::containerd {

std::string_view taskStatusName(TaskStatus status) {
  switch (status) {
    case TaskStatus::kUnknown: return "unknown";
    case TaskStatus::kCreated: return "created";
    case TaskStatus::kRunning: return "running";
    case TaskStatus::kStopped: return "stopped";
    case TaskStatus::kPaused: return "paused";
    case TaskStatus::kPausing: return "pausing";
  }
  return "unknown";
}

}  // namespace contd::containerd
