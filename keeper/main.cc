// contd-keeper: the one process of a shim group's keeper container (docs/recovery.md,
// "Grouped shims and their keeper").
//
// containerd's runc shim exits as soon as it serves no container. With shim_group
// "namespace", contd runs this tiny container in the group's shim so that the shim outlives
// the namespace's last container for `shim_keepalive_ms`, and a run-to-completion workload
// does not pay for a shim start and stop per container. It does nothing: it waits for a
// signal and exits 0 on SIGTERM, SIGINT or SIGHUP; SIGKILL ends it as any process.
//
// Without libc (on x86-64 and arm64): its own entry point makes three system calls. It blocks
// the three signals and waits for one of them (a blocked signal is queued even to PID 1 of a
// pid namespace, which would otherwise ignore them without a handler). A static glibc
// program that only waits still maps about 660 KiB of its text (glibc's start-up touches it
// all, and the kernel maps page-cache neighbours of each touched page); each keeper has a
// copy of its own (docs/decisions/shim-keeper.md), so nothing shares those pages. This one
// is a page of text and a page of stack. Elsewhere it falls back to libc.

#if defined(__x86_64__) || defined(__aarch64__)

#include <asm/unistd.h>
#include <linux/signal.h>

namespace {

long call(long number, long a, long b, long c, long d) {
#if defined(__x86_64__)
  long result;
  register long r10 asm("r10") = d;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10)
               : "rcx", "r11", "memory");
  return result;
#else
  register long x8 asm("x8") = number;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  register long x3 asm("x3") = d;
  asm volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
#endif
}

constexpr long kSigsetSize = 8;  // the kernel's sigset_t: 64 signals
constexpr long kEintr = 4;

}  // namespace

extern "C" [[noreturn]] void keeperMain() {
  const unsigned long mask =
      (1UL << (SIGTERM - 1)) | (1UL << (SIGINT - 1)) | (1UL << (SIGHUP - 1));
  call(__NR_rt_sigprocmask, SIG_BLOCK, reinterpret_cast<long>(&mask), 0, kSigsetSize);
  // Returns the signal's number; -EINTR only if a stop and continue interrupted the wait.
  while (call(__NR_rt_sigtimedwait, reinterpret_cast<long>(&mask), 0, 0, kSigsetSize) ==
         -kEintr) {
  }
  for (;;) {
    call(__NR_exit_group, 0, 0, 0, 0);
  }
}

// The entry point: the stack aligned as a call expects it, then keeperMain.
#if defined(__x86_64__)
asm(".text\n.globl _start\n_start:\n  xor %ebp, %ebp\n  and $-16, %rsp\n  call keeperMain\n");
#else
asm(".text\n.globl _start\n_start:\n  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n"
    "  and sp, x0, #-16\n  bl keeperMain\n");
#endif

#else  // another architecture: the same with libc

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

#endif
