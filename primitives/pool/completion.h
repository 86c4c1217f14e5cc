// How a waiter learns that a result is complete: Signal, a counter that waiters spin on and
// then sleep on, and Driver, a pool whose waiting callers collect results themselves.
// Internal to the results (async_result.h, imap_result.h) and the transports.
#ifndef PROCPAR_PRIMITIVES_COMPLETION_H_
#define PROCPAR_PRIMITIVES_COMPLETION_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "primitives/wait.h"

namespace procpar {
namespace async_detail {

// A pool whose results arrive through channels that a waiting caller may drain itself (the
// process pool): waiting threads call poll() while they spin, and when they sleep they are
// woken by the workers directly, so a result reaches the caller in one hop instead of two.
class Driver {
 public:
  virtual ~Driver() = default;
  // Counts the caller as a poller (so workers need not wake the pool's own thread) or not.
  virtual void enter() = 0;
  virtual void leave() = 0;
  // Delivers whatever results have arrived; returns whether there were any. `must` waits for
  // the channel lock rather than skipping when another thread holds it (the last poll after
  // leave() must not be skipped).
  virtual bool poll(bool must) = 0;
  // Sleeping: begin_sleep() counts the caller as a sleeper and returns the progress counter;
  // sleep() waits until it moves past `seen` (any result delivered or failed, by anyone) or
  // the deadline; end_sleep() uncounts the caller.
  virtual std::uint32_t begin_sleep() = 0;
  virtual void sleep(std::uint32_t seen,
                     std::optional<wait_detail::Clock::time_point> deadline) = 0;
  virtual void end_sleep() = 0;
};

// A completion counter that waiters spin on and then sleep on.
class Signal {
 public:
  explicit Signal(std::shared_ptr<Driver> driver = nullptr) : driver_(std::move(driver)) {}

  void notify() {
    version_.fetch_add(1, std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_seq_cst) != 0) wait_detail::futex_wake(version_);
  }

  // spin_until does not charge a spin's budget for the time the spinner was descheduled (or
  // slowed, as under ThreadSanitizer), so a spin with a deadline must look at the clock itself:
  // otherwise wait_for and get(timeout) could overrun their deadline by a whole task.
  static bool past(const std::optional<wait_detail::Clock::time_point>& deadline) {
    return deadline && wait_detail::Clock::now() >= *deadline;
  }

  // Waits until `done()` or the deadline; returns done().
  template <class Done>
  bool wait(Done&& done, std::optional<wait_detail::Clock::time_point> deadline) {
    if (done()) return true;
    auto budget = std::chrono::duration_cast<std::chrono::nanoseconds>(wait_detail::kSpinBudget);
    if (deadline) {
      budget = std::min(budget, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    *deadline - wait_detail::Clock::now()));
    }
    if (driver_ != nullptr) {
      // Spin (collecting results) while results keep coming, then sleep until a worker
      // reports progress; after a wake-up, spin again: more results usually follow the first
      // (a map's next chunks), and collecting them while spinning saves the workers a wake-up
      // call per result. The budget is for a spell without progress, so a long map is
      // collected by spinning from start to end.
      for (;;) {
        driver_->enter();
        bool progressed = false;
        do {
          progressed = false;
          wait_detail::spin_until(
              [&] {
                progressed = driver_->poll(false);
                return progressed || done() || past(deadline);
              },
              budget);
        } while (progressed && !done() &&
                 !(deadline && wait_detail::Clock::now() >= *deadline));
        driver_->leave();
        driver_->poll(true);  // collects what a worker published while it saw us spinning
        if (done()) return true;
        if (deadline && wait_detail::Clock::now() >= *deadline) return false;
        const std::uint32_t seen = driver_->begin_sleep();
        driver_->poll(true);
        if (!done()) driver_->sleep(seen, deadline);
        driver_->end_sleep();
        driver_->poll(true);  // collects what a worker published while it saw us asleep
        if (done()) return true;
        if (deadline && wait_detail::Clock::now() >= *deadline) return false;
        if (deadline) {
          budget = std::min(budget, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        *deadline - wait_detail::Clock::now()));
        }
      }
    }
    wait_detail::spin_until([&] { return done() || past(deadline); }, budget);
    for (;;) {
      const std::uint32_t seen = version_.load(std::memory_order_seq_cst);
      if (done()) return true;
      if (deadline && wait_detail::Clock::now() >= *deadline) return false;
      waiters_.fetch_add(1, std::memory_order_seq_cst);
      wait_detail::futex_wait(version_, seen, deadline);
      waiters_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

 private:
  std::shared_ptr<Driver> driver_;
  std::atomic<std::uint32_t> version_{0};
  std::atomic<std::uint32_t> waiters_{0};
};

}  // namespace async_detail
}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_COMPLETION_H_
