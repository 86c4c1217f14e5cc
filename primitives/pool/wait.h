// Waiting on a 32-bit word: a bounded spin, then a futex sleep.
//
// On these machines a futex wake-up round trip costs about 17 us (over 100 us when the woken
// CPU was idle) and a shared-memory spin round trip about 0.3 us, so a waiter first spins for a
// short budget (a few tens of microseconds, with a pause instruction so the sibling hyperthread
// and the hypervisor see an idle loop, and a sched_yield() every few microseconds so that a
// thread it waits for on the same CPU runs at once) and only then sleeps in the kernel;
// oversubscribed waiters therefore stop burning CPU quickly.
// The words may live in a MAP_SHARED mapping: the futex calls are the process-shared kind.
#ifndef PROCPAR_PRIMITIVES_WAIT_H_
#define PROCPAR_PRIMITIVES_WAIT_H_

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <optional>

namespace procpar::wait_detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "futex words must be plain 32-bit atomics");

using Clock = std::chrono::steady_clock;

// How long a waiter spins before it sleeps.
inline constexpr std::chrono::microseconds kSpinBudget{50};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Sleeps while `word` holds `expected`, at most until `deadline` (none: no limit). Returns on a
// wake-up, a changed value, a signal or the deadline; callers re-check their condition.
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::optional<Clock::time_point> deadline = std::nullopt) {
  timespec relative{};
  timespec* timeout = nullptr;
  if (deadline) {
    const auto left = *deadline - Clock::now();
    if (left <= Clock::duration::zero()) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    relative.tv_sec = static_cast<time_t>(ns / 1000000000);
    relative.tv_nsec = static_cast<long>(ns % 1000000000);
    timeout = &relative;
  }
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, timeout,
          nullptr, 0);
}

inline void futex_wake(std::atomic<std::uint32_t>& word, int count = INT_MAX) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, count, nullptr,
          nullptr, 0);
}

// Spins until `done()` or until it has spun for `budget`. Only time spent on a CPU counts: a
// gap between two looks at the clock longer than kDescheduled means the thread was preempted
// (common when the machine is oversubscribed), and a waiter that was preempted has not yet
// waited in the sense that matters, so that gap is not charged to the budget. But a spin also
// ends after kWallFactor times its budget of wall time: on a machine with more runnable
// waiters than cores every step of every spinner is preempted, no spin would ever be charged,
// and all of them would poll forever (MPI ranks oversubscribed 2:1 each kept half a core busy
// while idle). Returns done()'s last value.
inline constexpr std::chrono::microseconds kDescheduled{10};
inline constexpr int kWallFactor = 8;

template <class Done>
bool spin_until(Done&& done, std::chrono::nanoseconds budget) {
  auto last = Clock::now();
  const auto give_up = last + budget * kWallFactor;
  Clock::duration spun{0};
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    // If the thread we wait for shares this CPU (more runnable threads than cores), let it run
    // now rather than after our time slice; with a CPU to spare this returns at once.
    sched_yield();
    const auto now = Clock::now();
    const auto step = now - last;
    last = now;
    if (step < kDescheduled) spun += step;
    if (spun >= budget || now >= give_up) return done();
  }
}

}  // namespace procpar::wait_detail

#endif  // PROCPAR_PRIMITIVES_WAIT_H_
