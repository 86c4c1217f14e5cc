#include "primitives/current_process.h"

#include <pthread.h>
#include <unistd.h>

namespace procpar::current_process_detail {

std::atomic<pid_t> pid{0};

pid_t initialise() {
  // Registered once per program: the handler is inherited by every child, so it keeps the id
  // current at any depth of forking.
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { pid.store(getpid(), std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  const pid_t self = getpid();
  pid.store(self, std::memory_order_relaxed);
  return self;
}

// Before main(), so that the handler is in place before any thread can fork.
[[maybe_unused]] const pid_t initialised_before_main = initialise();

}  // namespace procpar::current_process_detail
