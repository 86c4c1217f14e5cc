// A model of CPython's global interpreter lock, for experiment gil_baseline.
#ifndef PROCPAR_EXPERIMENTS_MODEL_GIL_H_
#define PROCPAR_EXPERIMENTS_MODEL_GIL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace procpar::experiments {

// A model of CPython's GIL since 3.2, as Beazley describes it: a thread runs only while it
// holds the lock. A thread that wants the lock waits for it at most one switch interval; if
// the lock has not changed hands by then, it asks the holder to let go. The holder looks for
// that request regularly (CPython: between bytecodes; here: where it calls
// yield_if_requested), lets go, and waits until another thread has taken the lock, so that it
// cannot take it straight back (CPython's FORCE_SWITCHING).
//
//   ModelGil gil(std::chrono::milliseconds(5));
//   gil.acquire();
//   while (work_left()) { do_some_work(); gil.yield_if_requested(); }
//   gil.release();
//
// Cost: yield_if_requested is one relaxed atomic load unless a waiter asked for the lock;
// a forced switch costs a few condition-variable wake-ups (tens of microseconds).
class ModelGil {
 public:
  explicit ModelGil(std::chrono::microseconds switch_interval)
      : switch_interval_(switch_interval) {}

  void acquire() {
    std::unique_lock lock(mutex_);
    while (held_) {
      const std::uint64_t seen = switch_number_;
      const bool freed = released_.wait_for(lock, switch_interval_, [&] { return !held_; });
      if (!freed && switch_number_ == seen) drop_request_.store(true, std::memory_order_relaxed);
    }
    held_ = true;
    ++switch_number_;
    drop_request_.store(false, std::memory_order_relaxed);
    switched_.notify_all();
  }

  // The holder's regular check: cheap (one relaxed load) unless a waiter asked for the lock.
  void yield_if_requested() {
    if (!drop_request_.load(std::memory_order_relaxed)) return;
    {
      std::unique_lock lock(mutex_);
      held_ = false;
      ++forced_switches_;
      released_.notify_one();
      const std::uint64_t seen = switch_number_;
      switched_.wait(lock, [&] { return switch_number_ != seen; });
    }
    acquire();
  }

  void release() {
    std::lock_guard lock(mutex_);
    held_ = false;
    released_.notify_one();
  }

  // How often a holder was made to let go.
  std::uint64_t forced_switches() {
    std::lock_guard lock(mutex_);
    return forced_switches_;
  }

 private:
  const std::chrono::microseconds switch_interval_;
  std::mutex mutex_;
  std::condition_variable released_;  // the lock became free
  std::condition_variable switched_;  // another thread took the lock
  bool held_ = false;
  std::uint64_t switch_number_ = 0;  // how often the lock was taken
  std::uint64_t forced_switches_ = 0;
  std::atomic<bool> drop_request_{false};
};

}  // namespace procpar::experiments

#endif  // PROCPAR_EXPERIMENTS_MODEL_GIL_H_
