#pragma once
// The rules of a container's health (docs/lifecycle.md, "Health checks"), docker's:
//
//   starting  --pass-->  healthy  --`retries` failures in a row-->  unhealthy
//      |                    ^                                           |
//      +--`retries` failures (after the start period)-->  unhealthy    |
//                           +------------------pass---------------------+
//
// A pass sets the failing streak to 0 and makes the container healthy. A failure adds one
// to the streak, except while the container is still starting within its start period
// (those do not count: a slow start is not a failure); the streak reaching `retries` makes
// it unhealthy. Every result goes into the log, which keeps the last kHealthLogSize.
// A (re)start of the container makes it starting again, streak 0, the log kept.
// Pure: no clock, no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "modules/container/container_spec.h"

namespace contd::container {

// Records `result` (its output cut to kHealthOutputLimit, see healthOutput) in `state`;
// `in_start_period` says whether it started within the start period. Returns whether the
// status changed to healthy or unhealthy (an event is due).
bool recordHealthResult(HealthState& state, HealthResult result, std::uint32_t retries,
                        bool in_start_period);

// The container started (again): starting, streak 0, the log kept.
void restartHealth(HealthState& state);

// What a check printed, fit for the log and the API's string field: the last
// kHealthOutputLimit bytes, starting at a character boundary, with bytes that are not UTF-8
// replaced by U+FFFD.
std::string healthOutput(std::string_view output);

}  // namespace contd::container
