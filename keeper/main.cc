// contd-keeper: the one process of a shim group's keeper container (docs/recovery.md,
// "Grouped shims and their keeper").
//
// containerd's runc shim exits as soon as it serves no container. With shim_group
// "namespace", contd runs this tiny container in the group's shim so that the shim outlives
// the namespace's last container for `shim_keepalive_ms`, and a run-to-completion workload
// does not pay for a shim start and stop per container. It does nothing: it waits for a
// signal and exits 0 on SIGTERM, SIGINT or SIGHUP (as PID 1 of its pid namespace it would
// otherwise ignore them); SIGKILL ends it as any process.
//
// Linked statically (no loader, no shared libraries to relocate): it costs a few pages.

#include <signal.h>
#include <unistd.h>

namespace {

void finish(int signal_number) {
  (void)signal_number;
  _exit(0);
}

}  // namespace

int main() {
  struct sigaction action {};
  action.sa_handler = finish;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  for (;;) {
    pause();
  }
}
