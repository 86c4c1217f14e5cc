// The worker side of the process pool: claims tasks from the channel, runs them, pushes their
// results, and sleeps when there is nothing to do. Runs in a forked child.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "primitives/transport/process_pool_channel.h"
#include "primitives/shared_array.h"

namespace procpar::process_pool_detail {
namespace {

// An idle worker wakes this often to drop its mappings of arrays freed meanwhile (otherwise
// their memory stays allocated until the worker's next task). A timed sleep rather than a
// wake-up from the freeing process: an array is freed by whichever process owns it, which
// knows nothing of the pools whose workers mapped it, and the cost stays off the task path
// (a sleeping worker makes 10 futex calls a second; Python's Pool polls its workers at the
// same 0.1 s).
constexpr std::chrono::milliseconds kIdleReleaseInterval{100};

class WorkerLoop {
 public:
  WorkerLoop(const Channel& channel, const PoolOptions& options, std::size_t index,
             std::uint32_t token)
      : channel_(channel),
        options_(options),
        header_(channel.header()),
        control_(channel.control(index)),
        token_(token) {}

  [[noreturn]] void run(std::size_t index);

 private:
  void initialize();
  void arm_time_limit();
  bool try_claim(std::uint64_t* position);
  void idle_wait();
  void push_result(std::uint64_t position, std::uint32_t status, const ByteWriter& payload);
  [[noreturn]] void report_init_failure(const std::string& type_name,
                                        const std::string& message);
  void wake_collector();

  const Channel& channel_;
  const PoolOptions& options_;
  Header& header_;
  WorkerControl& control_;
  std::uint32_t token_;
  std::byte* ring_ = nullptr;
  timer_t timer_{};
  itimerspec arm_{};
};

void WorkerLoop::run(std::size_t index) {
  ring_ = channel_.ring(index);
  if (options_.initializer) initialize();
  const bool limited = options_.task_time_limit != std::chrono::nanoseconds::zero();
  if (limited) arm_time_limit();
  const itimerspec disarm{};
  ByteWriter results;
  ByteWriter failure;
  const std::size_t max_tasks = options_.maxtasksperchild;
  std::size_t tasks_done = 0;
  for (;;) {
    std::uint64_t position;
    while (!try_claim(&position)) {
      if (header_.stop.load(std::memory_order_acquire) != 0) _exit(0);
      idle_wait();
    }
    const Slot& s = channel_.slot(position);
    const auto runner = reinterpret_cast<Runner>(s.runner);
    ByteReader arguments(channel_.arena() + s.arg_offset, s.arg_size);
    results.clear();
    std::uint32_t status = kOk;
    if (limited) {
      control_.deadline_ns.store(steady_now_ns() + options_.task_time_limit.count(),
                                 std::memory_order_release);
      timer_settime(timer_, 0, &arm_, nullptr);
    }
    try {
      runner(s.function, arguments, results);
      if (results.size() > ProcessPool::kMaxResultBytes) {
        failure.clear();
        encode(failure, "the results of a chunk take " + std::to_string(results.size()) +
                            " bytes, more than the channel's limit of " +
                            mebibytes(ProcessPool::kMaxResultBytes) +
                            ": return bulk data through a RawArray, or use a smaller chunksize");
        status = kResultTooLarge;
      }
    } catch (...) {
      async_detail::Failure error = async_detail::Failure::from_current_exception();
      failure.clear();
      encode(failure, cut_to_fit(std::move(error.type_name), kMaxFailureTypeBytes,
                                 "exception's type name"));
      encode(failure, cut_to_fit(std::move(error.message), kMaxFailureMessageBytes,
                                 "exception's message"));
      status = kTaskFailed;
    }
    if (limited) {
      timer_settime(timer_, 0, &disarm, nullptr);
      control_.deadline_ns.store(0, std::memory_order_release);
    }
    push_result(position, status, status == kOk ? results : failure);
    release_freed_arrays();
    // As Python's maxtasksperchild: the parent sees the exit and forks a replacement.
    if (max_tasks != 0 && ++tasks_done == max_tasks) _exit(0);
  }
}

// Runs the initializer and reports it: kInitDone, or kInitFailed and exit (the parent forks
// no replacement for a failed initializer).
void WorkerLoop::initialize() {
  std::optional<InitializerError> error =
      pool_options_detail::run_initializer(options_.initializer);
  if (error) report_init_failure(error->type_name(), error->message());
  push_result(0, kInitDone, ByteWriter{});
}

// Creates the timer that delivers SIGKILL to this process when the running task's time is up:
// the kernel enforces the limit, so a task stuck anywhere (a loop, a system call, a blocked
// signal) is stopped, and a task that ends in time can never be hit (the timer is disarmed
// before its result is pushed and before the next task is claimed).
void WorkerLoop::arm_time_limit() {
  sigevent event{};
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SIGKILL;
  if (timer_create(CLOCK_MONOTONIC, &event, &timer_) != 0) {
    report_init_failure("std::system_error", std::string("timer_create for the "
                                                         "task_time_limit: ") +
                                                 std::strerror(errno));
  }
  const std::int64_t ns = options_.task_time_limit.count();
  arm_.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
  arm_.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
}

// Cut as a task's failure is: the record crosses the same ring.
void WorkerLoop::report_init_failure(const std::string& type_name, const std::string& message) {
  ByteWriter record;
  encode(record, cut_to_fit(type_name, kMaxFailureTypeBytes, "type name"));
  encode(record, cut_to_fit(message, kMaxFailureMessageBytes, "message"));
  push_result(0, kInitFailed, record);
  _exit(1);
}

bool WorkerLoop::try_claim(std::uint64_t* position) {
  std::uint64_t t = header_.claim_hint.load(std::memory_order_acquire);
  const std::uint64_t published = header_.published.load(std::memory_order_acquire);
  for (; t < published; ++t) {
    Slot& s = channel_.slot(t);
    std::uint64_t expected = t << kOwnerBits;
    if (s.word.load(std::memory_order_relaxed) != expected) continue;
    if (s.word.compare_exchange_strong(expected, expected | token_, std::memory_order_acq_rel)) {
      std::uint64_t hint = header_.claim_hint.load(std::memory_order_relaxed);
      while (hint < t + 1 && !header_.claim_hint.compare_exchange_weak(hint, t + 1)) {
      }
      *position = t;
      return true;
    }
  }
  return false;
}

void WorkerLoop::idle_wait() {
  Header& h = header_;
  const auto work_or_stop = [&h] {
    return h.claim_hint.load(std::memory_order_acquire) <
               h.published.load(std::memory_order_acquire) ||
           h.stop.load(std::memory_order_acquire) != 0;
  };
  // One idle worker spins; the others sleep at once, leaving the cores to busy processes.
  std::uint32_t none = 0;
  if (h.spinner.compare_exchange_strong(none, token_)) {
    const bool found = wait_detail::spin_until(work_or_stop, wait_detail::kSpinBudget);
    h.spinner.store(0, std::memory_order_seq_cst);
    if (found) return;
  }
  const std::uint32_t seen = h.task_signal.load(std::memory_order_seq_cst);
  control_.sleeping.store(1, std::memory_order_seq_cst);
  while (!work_or_stop()) {
    wait_detail::futex_wait(h.task_signal, seen,
                            wait_detail::Clock::now() + kIdleReleaseInterval);
    if (h.task_signal.load(std::memory_order_seq_cst) != seen) break;  // woken: go and look
    // The timeout: let go of arrays freed meanwhile, and sleep on. A worker woken for a task
    // skips this; it releases after the task, as always.
    release_freed_arrays();
  }
  control_.sleeping.store(0, std::memory_order_relaxed);
}

void WorkerLoop::push_result(std::uint64_t position, std::uint32_t status,
                             const ByteWriter& payload) {
  WorkerControl& c = control_;
  const std::uint64_t head = c.head.load(std::memory_order_relaxed);
  const std::size_t record = round_up(sizeof(RecordHeader) + payload.size(), kRecordAlign);
  const std::size_t offset = head % kRingBytes;
  const bool empty = c.tail.load(std::memory_order_acquire) == head;
  // Rewind when the record does not fit before the end, or, to reuse warm pages, when the ring
  // is empty (the skipped tail then counts as used, so only if the record fits in what the
  // rewind frees).
  const bool rewind =
      offset + record > kRingBytes || (empty && offset > kRewindAfter && record <= offset);
  const std::uint64_t start = rewind ? head + (kRingBytes - offset) : head;
  const std::uint64_t end = start + record;
  const auto has_space = [&] { return end - c.tail.load(std::memory_order_seq_cst) <= kRingBytes; };
  if (!has_space()) {
    wake_collector();
    while (!wait_detail::spin_until(has_space, wait_detail::kSpinBudget)) {
      const std::uint32_t seen = c.space_signal.load(std::memory_order_seq_cst);
      c.waiting_for_space.store(1, std::memory_order_seq_cst);
      wake_collector();
      if (!has_space()) wait_detail::futex_wait(c.space_signal, seen);
      c.waiting_for_space.store(0, std::memory_order_seq_cst);
    }
  }
  if (rewind) {
    const RecordHeader marker{0, kRewind, 0};
    std::memcpy(ring_ + offset, &marker, sizeof marker);
  }
  const RecordHeader header_bytes{position, status, static_cast<std::uint32_t>(payload.size())};
  std::byte* at = ring_ + start % kRingBytes;
  std::memcpy(at, &header_bytes, sizeof header_bytes);
  if (payload.size() != 0) std::memcpy(at + sizeof header_bytes, payload.data(), payload.size());
  c.head.store(end, std::memory_order_seq_cst);
  // Someone must collect the result: a caller spinning in a wait will; a caller asleep in a
  // wait is woken to do it; otherwise the parent's collector thread, if it sleeps.
  if (header_.sleepers.load(std::memory_order_seq_cst) != 0) {
    bump_and_wake(header_.progress);
    return;
  }
  if (header_.pollers.load(std::memory_order_seq_cst) != 0 ||
      header_.collector_sleeping.load(std::memory_order_seq_cst) == 0) {
    return;  // a poller or the awake collector drains it
  }
  // Nobody collects yet. When no other task waits to be claimed, the caller that submitted this
  // one is usually about to poll for it and then collects it itself: give it the grace before
  // waking the collector. With more tasks published (a burst of submissions) wake it at once.
  const auto collected = [&] {
    return header_.pollers.load(std::memory_order_seq_cst) != 0 ||
           c.tail.load(std::memory_order_acquire) >= end;
  };
  const bool last_task = header_.claim_hint.load(std::memory_order_acquire) >=
                         header_.published.load(std::memory_order_acquire);
  if (!last_task || !wait_detail::spin_until(collected, kWakeGrace)) {
    if (header_.sleepers.load(std::memory_order_seq_cst) != 0) {
      bump_and_wake(header_.progress);
    } else {
      wake_collector();
    }
  }
}

void WorkerLoop::wake_collector() {
  if (header_.collector_sleeping.load(std::memory_order_seq_cst) != 0) {
    bump_and_wake(header_.collector_signal);
  }
}

}  // namespace

void run_worker(const Channel& channel, const PoolOptions& options, std::size_t index,
                std::uint32_t token) {
  WorkerLoop(channel, options, index, token).run(index);
}

}  // namespace procpar::process_pool_detail
