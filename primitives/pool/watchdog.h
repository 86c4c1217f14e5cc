// A test's guard against hangs: fail, never hang (tests that fork or wait on workers use it).
#ifndef PROCPAR_PRIMITIVES_WATCHDOG_H_
#define PROCPAR_PRIMITIVES_WATCHDOG_H_

#include <signal.h>
#include <unistd.h>

namespace procpar::testing {

// Kills the test process with a message if a test runs longer than `seconds`: fail, never hang.
// Pending alarms are not inherited by forked children, so workers are unaffected.
class Watchdog {
 public:
  explicit Watchdog(unsigned seconds) {
    struct sigaction action {};
    action.sa_handler = [](int) {
      static const char message[] = "\nWATCHDOG: test exceeded its time limit (a hang)\n";
      [[maybe_unused]] ssize_t written = write(2, message, sizeof message - 1);
      _exit(3);
    };
    sigaction(SIGALRM, &action, nullptr);
    alarm(seconds);
  }
  ~Watchdog() { alarm(0); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
};

}  // namespace procpar::testing

#endif  // PROCPAR_PRIMITIVES_WATCHDOG_H_
