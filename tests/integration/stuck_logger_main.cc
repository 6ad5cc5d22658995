// A log driver that never gets ready: it keeps fd 5 open and sleeps, as a hung logger would.
// Used to test contd's own deadline on task Create.
#include <unistd.h>

int main() {
  for (;;) {
    ::pause();
  }
}
