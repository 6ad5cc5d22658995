// The one error line: transport failures in plain words, contd's own errors as they are.

#include "modules/contctl/error_text.h"

#include <gtest/gtest.h>

namespace contd::contctl {
namespace {

using std::chrono::seconds;

constexpr std::string_view kUnavailable =
    "UNAVAILABLE: failed to connect to all addresses; last error: UNKNOWN: "
    "unix:/run/contd/contd.sock: No such file or directory";

TEST(ContctlErrors, ASocketThatIsNotThereSaysSo) {
  EXPECT_EQ(errorLine(kUnavailable, "/run/contd/contd.sock", {SocketProbe::kMissing, ""}, "ls",
                      seconds(10)),
            "cannot reach contd at unix:/run/contd/contd.sock: no such socket (is contd "
            "running? --socket or CONTD_SOCKET picks another)");
}

TEST(ContctlErrors, PermissionDeniedNamesTheSocketsGroup) {
  EXPECT_EQ(errorLine(kUnavailable, "/run/contd/contd.sock",
                      {SocketProbe::kPermissionDenied, "contd"}, "ls", seconds(10)),
            "cannot reach contd at unix:/run/contd/contd.sock: permission denied (join group "
            "'contd', the socket's group, or run as root)");
}

TEST(ContctlErrors, RefusedAndTimedOutCalls) {
  EXPECT_EQ(errorLine("UNAVAILABLE: failed to connect to all addresses; last error: UNKNOWN: "
                      "unix:/s: Connection refused",
                      "/s", {}, "ls", seconds(10)),
            "cannot reach contd at unix:/s: connection refused (is contd running?)");
  EXPECT_EQ(errorLine("DEADLINE_EXCEEDED: Deadline Exceeded", "/s", {}, "inspect", seconds(10)),
            "contd did not answer 'inspect' within 10s (busy or stuck? see its log: "
            "journalctl -u contd)");
}

TEST(ContctlErrors, ContdsOwnErrorsAreKept) {
  const std::string_view raw = "NOT_FOUND: container \"web\" in namespace \"demo\": not found";
  EXPECT_EQ(errorLine(raw, "/s", {}, "inspect", seconds(10)), raw);
  // A deadline contd itself reports (containerd slow) is its own message.
  EXPECT_EQ(errorLine("DEADLINE_EXCEEDED: task create: timed out", "/s", {}, "run", seconds(10)),
            "DEADLINE_EXCEEDED: task create: timed out");
}

TEST(ContctlErrors, ProbeSeesAMissingPathAndANonSocket) {
  EXPECT_EQ(probeSocket("/nonexistent/contd.sock").problem, SocketProbe::kMissing);
  EXPECT_EQ(probeSocket("/").problem, SocketProbe::kNotASocket);
}

}  // namespace
}  // namespace contd::contctl
