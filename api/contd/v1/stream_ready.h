#pragma once
// The initial metadata key contd sends at the start of a long stream (Events, Logs with
// follow) before any message: a client then knows contd took the call, so a later
// UNAVAILABLE means contd went away (contctl reconnects), not that it was never there.
// Shared by the server and the client of contd's API.

namespace contd::api {

inline constexpr char kStreamReadyKey[] = "contd-stream-ready";

}  // namespace contd::api
